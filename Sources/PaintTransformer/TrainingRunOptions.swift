// Everything train-paint-transformer is asked to do, as one value the library validates. Every check names its
// flag and says what is wrong in `PaintTransformerTrainingLimits`' words, so the executable only maps command-line
// values onto this type and a run refuses a bad value before it reads, trains or writes anything.
import Foundation
import Atelier

/// The options of a whole training run (`PaintTransformerTrainingRun`); the defaults are train-paint-transformer's.
public struct PaintTransformerTrainingRunOptions: Sendable, Equatable {
    /// A name in `PaintTransformerConfiguration.named`; a resumed checkpoint must hold this configuration.
    public var config = "small-proposals"
    /// Total steps: the run stops when the trainer reaches this step.
    public var steps = 1000
    /// Length of the learning-rate schedule (nil: `steps`).
    public var scheduleSteps: Int? = nil
    /// Patches per step and Adam's base rate (nil: `TrainerSettings`' defaults, or the checkpoint's when resuming).
    public var batch: Int? = nil
    public var learningRate: Double? = nil
    /// Seed of a new run's weights, data and dropout (a resumed run continues the checkpoint's streams).
    public var seed: UInt64 = 0
    /// Worker threads of the run's own work, installed for its scope (nil: the caller's context's count).
    public var threads: Int? = nil
    /// Parts of each batch with their own random streams (nil: the group's size, or the checkpoint's if larger).
    public var shards: Int? = nil
    /// Output folder: checkpoint.safetensors, weights-f16.safetensors, preview.png, validation.csv.
    public var out = "runs/paint"
    /// Every N steps: preview.png (0: never), a checkpoint, a progress line, a validation (0: never).
    public var previewEvery = 200
    public var checkpointEvery = 250
    public var logEvery = 10
    public var validateEvery = 250
    /// `NAME=VALUE,…` over the reference's weights (nil: the reference's, or the checkpoint's when resuming).
    public var lossWeights: String? = nil
    /// Folder for TensorBoard event files (nil: none).
    public var logdir: String? = nil
    /// Continue from `out`/checkpoint.safetensors.
    public var resume = false
    /// `fp32` or `bf16` (mixed precision; `TrainerSettings.precision`); nil: fp32, or the checkpoint's when resuming.
    public var precision: String? = nil

    public init() {}

    /// Throws `TrainerError.invalidOption` or `.unknownValue` naming the first flag out of range.
    public func validate() throws(TrainerError) {
        guard PaintTransformerConfiguration.named[config] != nil else {
            throw .unknownValue(flag: "--config", value: config, known: PaintTransformerConfiguration.named.keys.sorted())
        }
        try Self.refuse("--steps", PaintTransformerTrainingLimits.stepsProblem(steps))
        try Self.refuse("--schedule-steps", scheduleSteps.flatMap(PaintTransformerTrainingLimits.stepsProblem))
        try Self.refuse("--batch", batch.flatMap(PaintTransformerTrainingLimits.batchProblem))
        try Self.refuse("--lr", learningRate.flatMap(PaintTransformerTrainingLimits.learningRateProblem))
        _ = try parsedLossWeights()
        _ = try parsedPrecision()
        if let threads {
            do { try Threading.validatedCount(threads) } catch { throw .invalidOption(flag: error.flag, message: error.description) }
        }
        if let shards {
            try Self.refuse("--shards", shards < 1 ? "\(shards) is not a positive number" : nil)
            // Without a batch, a resumed run's batch is the checkpoint's: the trainer checks the shards against it.
            if !resume || batch != nil {
                try Self.refuse("--shards", PaintTransformerTrainingLimits.shardsProblem(shards, batch: batch ?? TrainerSettings.defaultBatchSize))
            }
        }
        if logdir?.isEmpty == true { throw .invalidOption(flag: "--logdir", message: "--logdir must be a folder path, got ''") }
        for (flag, every) in [("--checkpoint-every", checkpointEvery), ("--log-every", logEvery)] {
            try Self.refuse(flag, every > 0 ? nil : "\(every) is not a positive number")
        }
        for (flag, every) in [("--preview-every", previewEvery), ("--validate-every", validateEvery)] {
            try Self.refuse(flag, every >= 0 ? nil : "\(every) is negative (0: never)")
        }
    }

    /// A new run's settings: these options over `TrainerSettings`' defaults, `processes` shards unless `shards`.
    public func newRunSettings(processes: Int = 1) throws(TrainerError) -> TrainerSettings {
        try validate()
        var settings = TrainerSettings(configuration: PaintTransformerConfiguration.named[config]!, totalSteps: scheduleSteps ?? steps,
                                       seed: seed, shards: shards ?? processes)
        if let batch { settings.batchSize = batch }
        if let learningRate { settings.learningRate = learningRate }
        if let weights = try parsedLossWeights() { settings.lossWeights = weights }
        if let precision = try parsedPrecision() { settings.precision = precision }
        return settings
    }

    /// `lossWeights` parsed (nil when not given).
    public func parsedLossWeights() throws(TrainerError) -> PaintTransformerLossWeights? {
        guard let lossWeights else { return nil }
        switch PaintTransformerLossWeights.parse(lossWeights) {
        case let .success(weights): return weights
        case let .failure(e): throw .invalidOption(flag: "--loss-weights", message: "--loss-weights: \(e)")
        }
    }

    /// `precision` parsed (nil when not given).
    public func parsedPrecision() throws(TrainerError) -> MatmulPrecision? {
        guard let precision else { return nil }
        guard let p = MatmulPrecision(rawValue: precision) else {
            throw .unknownValue(flag: "--precision", value: precision, known: MatmulPrecision.allCases.map(\.rawValue))
        }
        return p
    }

    /// Throws `problem` (a `PaintTransformerTrainingLimits` phrase such as "0 is not in 1…10⁹") after `flag`.
    private static func refuse(_ flag: String, _ problem: String?) throws(TrainerError) {
        if let problem { throw .invalidOption(flag: flag, message: "\(flag) \(problem)") }
    }
}
