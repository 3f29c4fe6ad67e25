// train-transgan's model- and training-shaping flags, resolved into a configuration and options: for a new
// run, defaults fill the flags not given; for a resumed run, the checkpoint's stored values are used and a
// flag given anyway must agree with them (the error names the flag and both values). Kept in the library so
// the resume rules are tested without running the executable.
import Foundation
import Atelier

/// The flags that shape a TransGAN run; nil = not on the command line.
public struct TrainingFlags: Sendable, Equatable {
    public var config: String? = nil
    public var gWindow: Int? = nil
    public var gridFrom: Int? = nil
    public var data: String? = nil
    public var batch: Int? = nil
    public var gBatch: Int? = nil
    public var nCritic: Int? = nil
    public var loss: String? = nil
    public var r1Gamma: Double? = nil
    public var lr: Double? = nil
    public var gLr: Double? = nil
    public var dLr: Double? = nil
    public var gpEvery: Int? = nil
    public var gpBatch: Int? = nil
    public var emaKimg: Double? = nil
    public var emaWarmup: Double? = nil
    public var emaBeta: Double? = nil
    public var augment: String? = nil
    public var seed: UInt64? = nil

    public init() {}

    /// A new run's defaults where `TrainingOptions()` has none suited to a CPU: configuration, data, D batch
    /// (the G batch defaults to twice the D batch).
    public static let defaultConfig = "tiny"
    public static let defaultData = "fashion-mnist"
    public static let defaultBatch = 32

    /// The configuration, options and data source a run uses.
    public struct Run: Sendable, Equatable {
        public var config: TransGANConfiguration
        public var options: TrainingOptions
        public var source: DataSource
    }

    /// A new run: each flag given, else its default; every value validated.
    public func newRun(dataDir: String? = nil) throws -> Run {
        let spec = data ?? Self.defaultData
        let source = try DataSource(parsing: spec, dataDir: dataDir)
        var config = try TransGANConfiguration.named(self.config ?? Self.defaultConfig).with(channels: source.channels)
        if let gWindow {
            try Require.int(gWindow, in: 1...TransGANConfiguration.maximumImageSize, flag: "--g-window")
            config.gWindow = gWindow
        }
        if let gridFrom {
            try Require.int(gridFrom, in: 1...TransGANConfiguration.maximumImageSize, flag: "--grid-from")
            config.gridAttentionFrom = gridFrom
        }
        try config.validate()
        var options = TrainingOptions()
        if let loss { options.loss = try Self.parseLoss(loss) }
        options.batch = batch ?? Self.defaultBatch
        try Require.int(options.batch, in: TransGANLimits.batch, flag: "--batch")
        options.gBatch = gBatch ?? 2 * options.batch
        if let nCritic { options.nCritic = nCritic }
        if let r1Gamma { options.r1Gamma = r1Gamma }
        if let lr { try Require.finite(lr, flag: "--lr") }
        options.gLearningRate = gLr ?? lr ?? options.gLearningRate
        options.dLearningRate = dLr ?? lr ?? options.dLearningRate
        if let gpEvery { options.gpEvery = gpEvery }
        options.gpBatch = gpBatch
        if let emaKimg { options.emaKimg = emaKimg }
        if let emaWarmup { options.emaWarmup = emaWarmup }
        if let emaBeta { options.emaBeta = emaBeta }
        if let augment { options.augment = augment }
        if let seed { options.seed = seed }
        options.data = spec
        try options.validate(for: config)
        return Run(config: config, options: options, source: source)
    }

    /// A resumed run: the configuration and options stored in `file`; a flag given anyway must equal the
    /// stored value. Checkpoints from before `--data` was recorded take `data` (default fashion-mnist),
    /// which must yield the stored channel count.
    public func resumedRun(from file: SafeTensorsFile, dataDir: String? = nil) throws -> Run {
        let config = try file.transGANConfiguration()
        guard var options = try file.transGANOptions(for: config) else {
            throw TrainingError.invalidCheckpoint(path: file.source, reason: "it holds no training options "
                                                  + "(a generator snapshot? resume from a checkpoint.safetensors)")
        }
        func agree<T: Equatable>(_ flag: String, _ given: T?, _ stored: T, show: (T) -> String = { "\($0)" }) throws(TrainingError) {
            guard let given, given != stored else { return }
            throw .resumeConflict(flag: flag, given: show(given), stored: show(stored), checkpoint: file.source)
        }
        try agree("--config", self.config, config.name)
        try agree("--g-window", gWindow, config.gWindow)
        try agree("--grid-from", gridFrom, config.gridAttentionFrom)
        if let stored = options.data { try agree("--data", data, stored) }
        try agree("--batch", batch, options.batch)
        try agree("--g-batch", gBatch, options.gBatch)
        try agree("--n-critic", nCritic, options.nCritic)
        try agree("--loss", try loss.map(Self.parseLoss), options.loss, show: \.rawValue)
        try agree("--r1-gamma", r1Gamma, options.r1Gamma)
        try agree(gLr != nil ? "--g-lr" : "--lr", gLr ?? lr, options.gLearningRate)
        try agree(dLr != nil ? "--d-lr" : "--lr", dLr ?? lr, options.dLearningRate)
        try agree("--gp-every", gpEvery, options.gpEvery)
        if let gpBatch, gpBatch != options.gpBatch {
            throw TrainingError.resumeConflict(flag: "--gp-batch", given: String(gpBatch), stored: options.gpBatch.map(String.init) ?? "(whole batch)",
                                               checkpoint: file.source)
        }
        try agree("--ema-kimg", emaKimg, options.emaKimg)
        try agree("--ema-warmup", emaWarmup, options.emaWarmup)
        try agree("--ema-beta", emaBeta, options.emaBeta)
        try agree("--augment", augment, options.augment)
        try agree("--seed", seed, options.seed)
        let spec = options.data ?? data ?? Self.defaultData
        let source = try DataSource(parsing: spec, dataDir: dataDir)
        guard source.channels == config.channels else {
            throw TrainingError.incompatibleCheckpoint(path: file.source, reason: "it was trained on \(config.channels)-channel images; --data \(spec) "
                                                       + "gives \(source.channels)-channel images")
        }
        options.data = spec
        return Run(config: config, options: options, source: source)
    }

    static func parseLoss(_ name: String) throws(TrainingError) -> GANLoss {
        guard let l = GANLoss(rawValue: name) else {
            throw .invalidOption(flag: "--loss", value: "'\(name)'", allowed: "one of " + GANLoss.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return l
    }
}
