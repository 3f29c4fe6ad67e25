import Foundation
import Atelier
import AtelierMedia

// Self-supervised training of the stroke predictor (reference §4): every step synthesises a fresh batch (random
// background canvases and foreground strokes with the 75 % overlap rule), predicts, renders, matches and takes one
// Adam step. One evaluation per step computes the losses, all gradients and the batch-norm statistics.
// Checkpoints hold the weights, Adam's moments and step, both random streams (data synthesis and dropout) and the
// run's settings, so a resumed run continues bit for bit.
//
// Data parallelism: a batch is split into `shards`, each with its own pair of streams; the process group's
// members compute their shards (ShardPlan), their weighted gradients, losses and batch statistics are summed in
// one exchange, and every member applies the same update. The numbers depend on the shard count only, so a run
// on 2 processes equals the same run on 1 process computing both shards in turn. Batch normalisation uses each
// shard's own statistics in the forward (as per-process BN in PyTorch DDP); the running statistics are updated
// once per step from the shards' averaged batch mean and variance, so they stay identical on every member.

/// Why training stopped, a checkpoint could not be used, or a training run's option or output was refused.
public enum TrainerError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, total: Double, gradientNorm: Double)
    case badBatchSize(Int)
    case checkpoint(CheckpointError)
    case wrongConfiguration(path: String, expected: String, found: String)
    /// A setting outside its documented range (`PaintTransformerTrainingLimits`).
    case badSetting(name: String, reason: String)
    /// A checkpoint tensor holds NaN or infinity.
    case nonFiniteTensor(path: String, tensor: String)
    /// A step was non-finite earlier; the trainer takes no more steps and writes nothing.
    case stoppedAfterFailure(step: Int)
    /// A collective call of data-parallel training failed, or another member reported a failure.
    case distributed(String)
    /// A weight would not be finite in the export dtype (e.g. beyond ±65504 in F16).
    case unrepresentableWeight(path: String, tensor: String, dtype: String)
    /// A training-run option (`PaintTransformerTrainingRunOptions`) out of range; `message` starts with the flag.
    case invalidOption(flag: String, message: String)
    /// A name that is none of those a flag knows (a configuration).
    case unknownValue(flag: String, value: String, known: [String])
    /// The run's output folder (`--out`) could not be created.
    case outputDirectory(path: String, reason: String)
    /// A file of the run's output (validation.csv) could not be replaced.
    case unwritable(FileWriteError)
    /// A step of a training run failed with `error`; `lastGood` is the newest checkpoint holding good weights.
    indirect case stepFailed(TrainerError, lastGood: (path: String, step: Int)?)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, total, norm):
            "loss became non-finite at step \(step) (total \(total), gradient norm \(norm)); the update was not applied — "
                + "resume from the last checkpoint with a lower --lr"
        case let .badBatchSize(b): "batch size \(PaintTransformerTrainingLimits.batchProblem(b) ?? "\(b) is invalid")"
        case let .checkpoint(e): e.description
        case let .wrongConfiguration(path, expected, found):
            "\(path) holds a '\(found)' model, but the configuration is '\(expected)'; pass --config \(found)"
        case let .badSetting(name, reason): "\(name): \(reason)"
        case let .nonFiniteTensor(path, tensor): "checkpoint \(path) cannot be used: tensor '\(tensor)' contains NaN or infinity"
        case let .unrepresentableWeight(path, tensor, dtype):
            "not writing \(path): tensor '\(tensor)' has values that are not finite in \(dtype); the weights have diverged"
        case let .distributed(reason): "data-parallel training: \(reason)"
        case let .stoppedAfterFailure(step):
            "training stopped at the non-finite step \(step); nothing more is trained or saved — resume from the last checkpoint"
        case let .invalidOption(_, message): message
        case let .unknownValue(flag, value, known): "unknown \(flag) '\(value)'; use one of \(known.joined(separator: ", "))"
        case let .outputDirectory(path, reason): "cannot create output directory \(path): \(reason)"
        case let .unwritable(e): e.description
        case let .stepFailed(error, lastGood?):
            "\(error); the last good checkpoint is \(lastGood.path) (step \(lastGood.step)), nothing was saved after the failure"
        case let .stepFailed(error, nil): "\(error); no checkpoint was written in this run, and nothing was saved after the failure"
        }
    }
}

/// The reference's step decay, scaled from its 220 epochs to `totalSteps`: the rate is constant for the first
/// 200/220 of training, then multiplied by 0.3 every 5/220 of it: factor = 0.3^max(0, ⌊(e − 200)/5⌋) for the
/// fractional 1-based "epoch" e = 1 + 220·step/totalSteps (LambdaLR stepped per epoch in Huage001 train.sh).
public struct PaintTransformerSchedule: LearningRateSchedule {
    public let base: Double
    public let totalSteps: Int
    public init(base: Double, totalSteps: Int) {
        self.base = base
        self.totalSteps = max(totalSteps, 1)
    }
    public func learningRate(at step: Int) -> Double {
        let epoch = 1 + (220 * step) / totalSteps  // integer epochs, as the reference's per-epoch stepping
        let exponent = Swift.max(0, (epoch - 200) / 5)
        return base * pow(0.3, Double(exponent))
    }
}

/// Loss values of one step (weighted, as the reference logs them).
public struct TrainingStepLosses: Sendable, Equatable {
    public var step: Int
    public var total: Double
    public var pixel: Double
    public var parameters: Double
    public var wasserstein: Double
    public var decision: Double
    /// Dense proposal terms (0 for the `learned` design).
    public var proposal: Double = 0
    public var learningRate: Double
}

/// Settings of a training run (stored in checkpoints).
public struct TrainerSettings: Sendable, Equatable {
    public var configuration: PaintTransformerConfiguration
    public var batchSize: Int = TrainerSettings.defaultBatchSize
    public var learningRate: Double = 1e-4
    /// Schedule length: the step decay happens in the last 20/220 of it.
    public var totalSteps: Int = 56_320
    public var seed: UInt64 = 0
    /// Loss weights (the reference's by default).
    public var lossWeights = PaintTransformerLossWeights()
    /// Parts of each batch with their own random streams, spread over the process group (1: one stream, as a
    /// plain single-process run). Each part holds a multiple of 4 patches.
    public var shards: Int = 1
    /// The network's matrix products (`--precision`): `.bf16` is mixed precision (bf16 GEMM inputs, fp32
    /// accumulation, weights, Adam and every other op). Stored in checkpoints.
    public var precision = MatmulPrecision.fp32
    public init(configuration: PaintTransformerConfiguration, batchSize: Int = defaultBatchSize, learningRate: Double = 1e-4,
                totalSteps: Int = 56_320, seed: UInt64 = 0, lossWeights: PaintTransformerLossWeights = .init(), shards: Int = 1) {
        self.shards = shards
        self.configuration = configuration
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.totalSteps = totalSteps
        self.seed = seed
        self.lossWeights = lossWeights
    }

    /// The batch of a run not told otherwise (train-paint-transformer without `--batch`): the option checks
    /// `--shards` against it before any work.
    public static let defaultBatchSize = 64
}

/// Trains a `StrokePredictorNetwork` on synthetic strokes.
public final class PaintTransformerTrainer {
    public private(set) var settings: TrainerSettings
    public let network: StrokePredictorNetwork
    public let optimizer: Adam
    public let renderer: DifferentiableStrokeRenderer
    public let synthesizer: StrokeSynthesizer
    /// The processes that train together (`SingleProcess` unless started by mpirun).
    public let group: ProcessGroup
    /// Each shard's synthesis stream (SplitMix64 state) and dropout stream (Philox seed and offset). Every member
    /// advances only its own shards'; checkpoints gather them.
    private var dataStreams: [UInt64]
    private var dropoutStreams: [(seed: UInt64, offset: UInt64)]
    /// The stream that draws shard 0's synthetic batches (the whole batch's when there is one shard).
    public var dataGenerator: SplitMix64 { SplitMix64(seed: dataStreams[0]) }
    public var shardPlan: ShardPlan { ShardPlan(batch: settings.batchSize, shards: settings.shards, granule: 4)! }
    private var reducer: GradientReducer?
    /// What this run has exchanged with the group so far.
    public var communication: CommunicationSummary {
        var summary = CommunicationSummary()
        summary.add(reducer)
        return summary
    }
    public var schedule: PaintTransformerSchedule { PaintTransformerSchedule(base: settings.learningRate, totalSteps: settings.totalSteps) }
    /// Completed optimiser steps.
    public var step: Int { optimizer.stepCount }
    /// The step that was non-finite, after which nothing more is trained or saved.
    public private(set) var failedStep: Int?

    /// Throws for settings outside `PaintTransformerTrainingLimits`.
    static func validate(_ settings: TrainerSettings) throws(TrainerError) {
        if PaintTransformerTrainingLimits.batchProblem(settings.batchSize) != nil { throw .badBatchSize(settings.batchSize) }
        if let problem = PaintTransformerTrainingLimits.stepsProblem(settings.totalSteps) {
            throw .badSetting(name: "schedule length (total steps)", reason: problem)
        }
        if let problem = PaintTransformerTrainingLimits.learningRateProblem(settings.learningRate) {
            throw .badSetting(name: "learning rate", reason: problem)
        }
        if let problem = PaintTransformerTrainingLimits.shardsProblem(settings.shards, batch: settings.batchSize) {
            throw .badSetting(name: "shards", reason: problem)
        }
    }

    /// Checks that every member can compute a shard and starts them all from the root's weights.
    private func join(_ group: ProcessGroup) throws(TrainerError) {
        if settings.shards < group.size {
            throw .badSetting(name: "shards", reason: "\(settings.shards) shards cannot keep \(group.size) processes busy; use at least \(group.size)")
        }
        do {
            try group.broadcast(network.stateDict().map(\.1) + optimizer.namedState().map(\.1))
        } catch { throw .distributed("\(error)") }
    }

    /// Streams for a shard that the checkpoint does not hold: derived from the seed, the shard and the step, so
    /// that a shard added on resume does not replay another's draws.
    static func freshStreams(seed: UInt64, shard: Int, step: Int) -> (data: UInt64, dropout: (seed: UInt64, offset: UInt64)) {
        var mix = SplitMix64(seed: seed ^ (UInt64(shard) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(step) &* 0xD1B5_4A32_D192_ED03))
        return (mix.next(), (mix.next(), 0))
    }

    /// A fresh run; with a process group, every member must call this with the same settings.
    public convenience init(settings: TrainerSettings, brushes: BrushSet = .oilPaint(), group: ProcessGroup = SingleProcess()) throws(TrainerError) {
        try Self.validate(settings)
        let network = StrokePredictorNetwork(
            configuration: settings.configuration, rng: RandomGenerator(seed: settings.seed))
        var data = [settings.seed ^ 0xDA7A_5EED_0000_0001], dropout = [(network.rng.seed, network.rng.offset)]
        for shard in 1..<max(settings.shards, 1) {
            let fresh = Self.freshStreams(seed: settings.seed, shard: shard, step: 0)
            data.append(fresh.data)
            dropout.append(fresh.dropout)
        }
        self.init(settings: settings, network: network, brushes: brushes, dataStreams: data, dropoutStreams: dropout, group: group)
        try join(group)
    }

    private init(settings: TrainerSettings, network: StrokePredictorNetwork, brushes: BrushSet, dataStreams: [UInt64],
                 dropoutStreams: [(seed: UInt64, offset: UInt64)], group: ProcessGroup) {
        self.settings = settings
        self.network = network
        network.useMatmulPrecision(settings.precision)
        optimizer = Adam(parameters: network.namedParameters(), learningRate: settings.learningRate, betas: (0.5, 0.999))
        renderer = DifferentiableStrokeRenderer(brushes: brushes)
        synthesizer = StrokeSynthesizer(brushes: brushes, strokesPerPatch: settings.configuration.strokesPerPatch)
        self.dataStreams = dataStreams
        self.dropoutStreams = dropoutStreams
        self.group = group
    }

    /// Continues a run from a checkpoint written by `saveCheckpoint(to:)`.
    /// - Parameter totalSteps: a new schedule length (to extend a run), or nil to keep the stored one.
    /// - Parameter batchSize: a new batch size, or nil to keep the stored one (Adam's state does not depend on it).
    /// - Parameter precision: a new matrix-product precision, or nil for the stored one (fp32 if none is stored).
    /// - Parameter shards: a new shard count, or nil for the stored one (at least the group's size). Shards the
    ///   checkpoint holds keep their streams; added ones start fresh streams.
    /// - Parameter group: with several members, only the root reads `url` and sends its bytes to the others (the
    ///   file need not exist on other machines); every member must call this.
    public static func resume(from url: URL, totalSteps: Int? = nil, learningRate: Double? = nil, batchSize: Int? = nil,
                              lossWeights: PaintTransformerLossWeights? = nil, shards: Int? = nil, precision: MatmulPrecision? = nil,
                              brushes: BrushSet = .oilPaint(), group: ProcessGroup = SingleProcess()) throws(TrainerError) -> PaintTransformerTrainer {
        if let batchSize, PaintTransformerTrainingLimits.batchProblem(batchSize) != nil { throw .badBatchSize(batchSize) }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: url, sharedBy: group) } catch { throw .checkpoint(error) }
        // Nothing stored is trusted because it parses: NaN weights or moments would paint black or train on NaN.
        for key in file.tensors.keys.sorted() {
            guard let entry = file.tensors[key], entry.dtype.isFloatingPoint else { continue }
            if !entry.floats().allSatisfy(\.isFinite) { throw .nonFiniteTensor(path: url.path, tensor: key) }
        }
        do {
            guard let name = file.metadata["config"], let configuration = PaintTransformerConfiguration.named[name] else {
                throw CheckpointError.badMetadata(path: url.path, key: "config", reason: "missing or unknown configuration")
            }
            guard let state = file.metadata["data_rng.state"], let dataState = UInt64(state) else {
                throw CheckpointError.badMetadata(path: url.path, key: "data_rng.state", reason: "missing or not an unsigned integer")
            }
            let dropout = try file.restoreGenerator(name: "dropout_rng")
            var settings = TrainerSettings(configuration: configuration)
            func stored(_ key: String, _ problem: (Int) -> String?) throws(CheckpointError) -> Int {
                let value = try file.metadataInt(key)
                if let reason = problem(value) { throw CheckpointError.badMetadata(path: url.path, key: key, reason: reason) }
                return value
            }
            let storedBatch = try stored("batch", PaintTransformerTrainingLimits.batchProblem)
            settings.batchSize = batchSize ?? storedBatch
            let storedTotal = try stored("total_steps", PaintTransformerTrainingLimits.stepsProblem)
            settings.totalSteps = totalSteps ?? storedTotal
            _ = try stored("step", PaintTransformerTrainingLimits.completedStepProblem)
            guard let rateText = file.metadata["learning_rate"], let storedRate = Double(rateText) else {
                throw CheckpointError.badMetadata(path: url.path, key: "learning_rate", reason: "missing or not a number")
            }
            if let reason = PaintTransformerTrainingLimits.learningRateProblem(storedRate) {
                throw CheckpointError.badMetadata(path: url.path, key: "learning_rate", reason: reason)
            }
            settings.learningRate = learningRate ?? storedRate
            guard let seedText = file.metadata["seed"], let seed = UInt64(seedText) else {
                throw CheckpointError.badMetadata(path: url.path, key: "seed", reason: "missing or not an unsigned 64-bit integer")
            }
            settings.seed = seed
            if let text = file.metadata["loss_weights"] {
                switch PaintTransformerLossWeights.parse(text) {
                case let .success(w): settings.lossWeights = w
                case let .failure(e): throw CheckpointError.badMetadata(path: url.path, key: "loss_weights", reason: e.description)
                }
            }
            if let lossWeights { settings.lossWeights = lossWeights }
            // Absent from checkpoints of fp32 runs (and of runs before the setting existed).
            if let text = file.metadata["precision"] {
                guard let stored = MatmulPrecision(rawValue: text) else {
                    throw CheckpointError.badMetadata(path: url.path, key: "precision",
                                                      reason: "'\(text)' is none of " + MatmulPrecision.allCases.map(\.rawValue).joined(separator: ", "))
                }
                settings.precision = stored
            }
            if let precision { settings.precision = precision }
            do { try validate(settings) } catch { throw SettingFailure(error: error) }
            // Building the network draws its initial weights; start the dropout stream that many counters earlier
            // so that afterwards it stands exactly where the checkpoint left it.
            let probe = RandomGenerator(seed: dropout.seed)
            _ = StrokePredictorNetwork(configuration: configuration, rng: probe)
            let rng = RandomGenerator(seed: dropout.seed, offset: dropout.offset &- probe.offset)
            let network = StrokePredictorNetwork(configuration: configuration, rng: rng)
            try file.restore(network)
            let storedStep = try file.metadataInt("step")
            let storedShards = file.metadata["shards"] == nil ? 1 : try stored("shards") { $0 >= 1 && $0 <= storedBatch / 4 ? nil : "\($0) is not in 1…\(storedBatch / 4)" }
            settings.shards = shards ?? max(storedShards, group.size)
            do { try validate(settings) } catch { throw SettingFailure(error: error) }
            var dataStreams: [UInt64] = [], dropoutStreams: [(seed: UInt64, offset: UInt64)] = []
            for shard in 0..<settings.shards {
                if shard == 0 {
                    dataStreams.append(dataState)
                    dropoutStreams.append((rng.seed, rng.offset))
                } else if shard < storedShards {
                    let key = "data_rng.state.\(shard)"
                    guard let text = file.metadata[key], let state = UInt64(text) else {
                        throw CheckpointError.badMetadata(path: url.path, key: key, reason: "missing or not an unsigned integer")
                    }
                    let stream = try file.restoreGenerator(name: "dropout_rng.\(shard)")
                    dataStreams.append(state)
                    dropoutStreams.append((stream.seed, stream.offset))
                } else {
                    let fresh = freshStreams(seed: settings.seed, shard: shard, step: storedStep)
                    dataStreams.append(fresh.data)
                    dropoutStreams.append(fresh.dropout)
                }
            }
            let trainer = PaintTransformerTrainer(settings: settings, network: network, brushes: brushes,
                                                  dataStreams: dataStreams, dropoutStreams: dropoutStreams, group: group)
            try file.restore(trainer.optimizer, prefix: "")
            try trainer.join(group)
            return trainer
        } catch let error as CheckpointError {
            throw .checkpoint(error)
        } catch let failure as SettingFailure {
            throw failure.error
        } catch {
            throw .checkpoint(.unreadable(path: url.path, reason: "\(error)"))
        }
    }

    /// Throws unless every member holds the same weights, batch statistics and Adam state.
    private func checkReplicas() throws(TrainerError) {
        let identical: Bool
        do { identical = try group.holdIdentical(network.stateDict().map(\.1) + optimizer.namedState().map(\.1)) } catch {
            throw .distributed("\(error)")
        }
        if !identical { throw .distributed("the ranks' weights differ at step \(step); the processes are not running the same code and data") }
    }

    /// Every member's shard streams, on every member.
    private func gatherStreams() throws(TrainerError) {
        var states = (0..<settings.shards).map { [dataStreams[$0], dropoutStreams[$0].seed, dropoutStreams[$0].offset] }
        do {
            try group.gatherShardStates(&states, owned: shardPlan.shards(ofRank: group.rank, ranks: group.size))
        } catch { throw .distributed("\(error)") }
        dataStreams = states.map { $0[0] }
        dropoutStreams = states.map { ($0[1], $0[2]) }
    }

    /// Writes weights (F32), Adam state, every shard's random streams and the settings, atomically. With a
    /// process group every member calls this; the root writes, and a failure to write fails it on every member.
    public func saveCheckpoint(to url: URL) throws(TrainerError) {
        if let failedStep { throw .stoppedAfterFailure(step: failedStep) }
        try checkReplicas()
        try gatherStreams()
        do { try group.runOnRoot("writing \(url.path)") { try writeCheckpoint(to: url) } }
        catch let error as TrainerError { throw error }
        catch { throw .distributed("\(error)") }
    }

    private func writeCheckpoint(to url: URL) throws(TrainerError) {
        var file = SafeTensorsFile()
        file.store(network)
        file.store(optimizer, prefix: "")
        file.store(RandomGenerator(seed: dropoutStreams[0].seed, offset: dropoutStreams[0].offset), name: "dropout_rng")
        file.metadata["data_rng.state"] = String(dataStreams[0])
        for shard in 1..<max(settings.shards, 1) {
            file.metadata["data_rng.state.\(shard)"] = String(dataStreams[shard])
            file.store(RandomGenerator(seed: dropoutStreams[shard].seed, offset: dropoutStreams[shard].offset), name: "dropout_rng.\(shard)")
        }
        if settings.shards > 1 { file.metadata["shards"] = String(settings.shards) }
        file.metadata["config"] = settings.configuration.name
        file.metadata["batch"] = String(settings.batchSize)
        file.metadata["total_steps"] = String(settings.totalSteps)
        file.metadata["learning_rate"] = String(settings.learningRate)
        file.metadata["seed"] = String(settings.seed)
        file.metadata["loss_weights"] = settings.lossWeights.text
        // Only when not fp32, so fp32 checkpoints stay byte-identical to those written before the setting.
        if settings.precision != .fp32 { file.metadata["precision"] = settings.precision.rawValue }
        file.metadata["format"] = "atelier.paint-transformer.training"
        do { try file.write(to: url) } catch { throw .checkpoint(error) }
    }

    /// Writes only the weights (e.g. F16 for shipping) with the configuration name in the metadata.
    public func exportWeights(to url: URL, dtype: SafeTensorsDType = .f16) throws(TrainerError) {
        if let failedStep { throw .stoppedAfterFailure(step: failedStep) }
        let limit: Float = dtype == .f16 ? 65504 : .greatestFiniteMagnitude
        for (name, p) in network.stateDict() where p.dtype == .float32 {
            if !p.tensor.floats().allSatisfy({ $0.isFinite && abs($0) <= limit }) {
                throw .unrepresentableWeight(path: url.path, tensor: name, dtype: dtype.rawValue.uppercased())
            }
        }
        do { try PaintTransformerModel.save(network, to: url, dtype: dtype, metadata: ["step": String(step)]) } catch { throw .checkpoint(error) }
    }

    /// The result of one step.
    public struct StepResult {
        public var losses: TrainingStepLosses
        /// target | canvas | prediction rows for the first patches, when asked for.
        public var preview: RasterImage?
        /// The most intermediate bytes one of the step's evaluations held at once (its plan's peak).
        public var executorPeakBytes: Int
    }

    /// Synthesises a batch (this member's shards of it) and takes one optimiser step, the same on every member.
    /// - Parameter preview: also render a preview sheet of the first 8 patches (of shard 0, on the root).
    /// - Throws: `TrainerError.nonFiniteLoss` (before touching the weights) if the loss or the gradients are not
    ///   finite — on every member alike, since they test the summed values.
    public func trainStep(preview: Bool = false) throws(TrainerError) -> StepResult {
        if let failedStep { throw .stoppedAfterFailure(step: failedStep) }
        let plan = shardPlan, n = settings.configuration.strokesPerPatch, p = PaintTransformerConfiguration.patchSize
        let parameters = network.namedParameters().map(\.1.tensor)
        network.train()
        var sheet: RasterImage? = nil
        // One shard on one process: its gradients and scalars are the step's (weight 1), so they skip the
        // reducer's copies (adding into zeros with weight 1 would give the same values).
        let direct = plan.shards == 1 && group.size == 1
        var directResult: (grads: [Tensor], values: [Double])? = nil
        var executorPeakBytes = 0
        for shard in plan.shards(ofRank: group.rank, ranks: group.size) {
            let b = plan.size(of: shard)
            var data = SplitMix64(seed: dataStreams[shard])
            network.rng.reposition(seed: dropoutStreams[shard].seed, offset: dropoutStreams[shard].offset)
            let batch = synthesizer.makeBatch(batchSize: b, using: &data)
            let target = Tensor(shape: [b, 3, p, p], floats: batch.targets)
            let old = Tensor(shape: [b, 3, p, p], floats: batch.oldCanvases)
            let groundTruth = Tensor(shape: [b, n, 5], floats: batch.params)
            let validity = Tensor(shape: [b, n], floats: batch.validity)

            let prediction = network.predict(image: target, canvas: old)
            let losses = PaintTransformerLoss.compute(shapes: prediction.shapes, logits: prediction.logits, groundTruth: groundTruth,
                                                      validity: validity, old: old, target: target, renderer: renderer,
                                                      proposals: prediction.proposals, weights: settings.lossWeights)
            let grads = gradients(of: losses.total, wrt: parameters)
            let scalars = [losses.total, losses.pixel, losses.parameters, losses.wasserstein, losses.decision, losses.proposal]
            let wantSheet = preview && shard == 0
            let statistics = network.pendingStatistics()
            let executed = evaluate(scalars + grads + statistics + (wantSheet ? [losses.reconstruction] : []))
            executorPeakBytes = max(executorPeakBytes, executed.peakBytes)
            dataStreams[shard] = data.state
            dropoutStreams[shard] = (network.rng.seed, network.rng.offset)

            let values = scalars.map { $0.item() } + statistics.flatMap { $0.doubles() }
            if direct {
                directResult = (grads, values)
            } else {
                if reducer == nil { reducer = GradientReducer(shapes: parameters.map(\.shape), scalarCount: values.count) }
                reducer!.add(gradients: grads, scalars: values, weight: plan.weight(of: shard))
            }
            if wantSheet {
                sheet = Self.previewSheet(targets: batch.targets, canvases: batch.oldCanvases,
                                          predictions: losses.reconstruction.floats(), count: min(8, b))
            }
        }
        let grads: [Tensor], scalars: [Double]
        if let directResult {
            (grads, scalars) = directResult
        } else {
            let reducer = self.reducer!
            defer { reducer.reset() }
            do { try reducer.reduce(over: group) } catch { throw .distributed("\(error)") }
            (grads, scalars) = (reducer.gradients(), reducer.scalars)
        }
        let values = Array(scalars.prefix(6))
        guard values.allSatisfy(\.isFinite), allFinite(grads) else {
            failedStep = step + 1
            throw .nonFiniteLoss(step: step + 1, total: values[0], gradientNorm: clipFactor(gradients: grads, maxNorm: .infinity).norm)
        }
        let rate = schedule.learningRate(at: step)
        optimizer.learningRate = rate
        optimizer.step(gradients: grads)
        var statistics = scalars.dropFirst(6)
        network.replacePendingStatistics(&statistics)
        network.applyStatisticUpdates()

        return StepResult(
            losses: TrainingStepLosses(step: step, total: values[0], pixel: values[1], parameters: values[2],
                                       wasserstein: values[3], decision: values[4], proposal: values[5], learningRate: rate),
            preview: sheet, executorPeakBytes: executorPeakBytes)
    }

    /// Three rows of `count` patches (target, canvas, prediction), each patch enlarged 4× (nearest).
    public static func previewSheet(targets: [Float], canvases: [Float], predictions: [Float], count: Int) -> RasterImage {
        let p = PaintTransformerConfiguration.patchSize, plane = 3 * p * p
        var cells: [RasterImage] = []
        for source in [targets, canvases, predictions] {
            for i in 0..<count {
                let patch = RasterImage(planar: Array(source[(i * plane)..<((i + 1) * plane)]), channels: 3, height: p, width: p)
                cells.append(patch.resized(width: 4 * p, height: 4 * p, filter: .nearest))
            }
        }
        return RasterImage.grid(cells, columns: count, padding: 4, background: 255)
    }
}

/// Carries a settings error out of `resume`'s untyped do block.
private struct SettingFailure: Error {
    let error: TrainerError
}
