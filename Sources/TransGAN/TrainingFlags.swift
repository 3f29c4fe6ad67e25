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
    /// Generator width per stage (`--g-dims 256,128,64`), discriminator width, depth and patch size.
    public var gDims: [Int]? = nil
    public var dDim: Int? = nil
    public var dDepth: Int? = nil
    public var dPatch: Int? = nil
    /// `--image-skips`: the generator's skip images (true when given).
    public var imageSkips: Bool? = nil
    public var data: String? = nil
    public var batch: Int? = nil
    public var gBatch: Int? = nil
    public var nCritic: Int? = nil
    public var loss: String? = nil
    public var r1Gamma: Double? = nil
    public var lr: Double? = nil
    public var gLr: Double? = nil
    public var dLr: Double? = nil
    /// `--lr-decay START:END`: linear decay of both rates to 0 over those D steps.
    public var lrDecay: String? = nil
    public var gpEvery: Int? = nil
    public var gpBatch: Int? = nil
    public var emaKimg: Double? = nil
    public var emaWarmup: Double? = nil
    public var emaBeta: Double? = nil
    public var augment: String? = nil
    public var seed: UInt64? = nil
    /// `--precision fp32|bf16`: the networks' matrix products (`TrainingOptions.precision`).
    public var precision: String? = nil

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
        let config = try configuration(channels: source.channels)
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
        options.lrDecay = try lrDecay.map(LearningRateDecay.init(parsing:))
        if let gpEvery { options.gpEvery = gpEvery }
        options.gpBatch = gpBatch
        if let emaKimg { options.emaKimg = emaKimg }
        if let emaWarmup { options.emaWarmup = emaWarmup }
        if let emaBeta { options.emaBeta = emaBeta }
        if let augment { options.augment = augment }
        if let seed { options.seed = seed }
        if let precision { options.precision = try Self.parsePrecision(precision) }
        options.data = spec
        try options.validate(for: config)
        return Run(config: config, options: options, source: source)
    }

    /// The named configuration with the shape overrides applied, each range-checked, then the configuration
    /// validated after each one so a shape rule it breaks (a patch that does not divide the image) names it.
    public func configuration(channels: Int) throws -> TransGANConfiguration {
        let name = self.config ?? Self.defaultConfig
        guard let named = TransGANConfiguration.named.first(where: { $0.name == name }) else {
            throw TrainingError.unknownValue(flag: "--config", value: name, known: TransGANConfiguration.named.map(\.name))
        }
        var config = named.with(channels: channels)
        let side = 1...TransGANConfiguration.maximumImageSize, dims = 1...TransGANConfiguration.maximumDim
        func override(_ flag: String, _ value: String, _ change: (inout TransGANConfiguration) -> Void) throws(TrainingError) {
            change(&config)
            do { try config.validate() } catch {
                guard case let .invalid(_, reason) = error else { throw .badOption("\(flag): \(error)") }
                throw .invalidOption(flag: flag, value: value, allowed: "a value that fits configuration '\(config.name)' (\(reason))")
            }
        }
        if let gWindow {
            try Require.int(gWindow, in: side, flag: "--g-window")
            try override("--g-window", String(gWindow)) { $0.gWindow = gWindow }
        }
        if let gridFrom {
            try Require.int(gridFrom, in: side, flag: "--grid-from")
            try override("--grid-from", String(gridFrom)) { $0.gridAttentionFrom = gridFrom }
        }
        if let gDims {
            let text = gDims.map(String.init).joined(separator: ",")
            guard gDims.count == 3, gDims.allSatisfy(dims.contains) else {
                throw TrainingError.invalidOption(flag: "--g-dims", value: text, allowed: "three stage widths between 1 and \(dims.upperBound)")
            }
            // The pixel shuffle's own widths keep the official model (no projections, the named configuration).
            let plain = gDims[1] * 4 == gDims[0] && gDims[2] * 16 == gDims[0]
            try override("--g-dims", text) { $0.gfDim = gDims[0]; $0.gDims = plain ? nil : gDims }
        }
        if let dDim {
            try Require.int(dDim, in: 4...TransGANConfiguration.maximumDim, flag: "--d-dim")
            try override("--d-dim", String(dDim)) { $0.dfDim = dDim }
        }
        if let dDepth {
            try Require.int(dDepth, in: 0...TransGANConfiguration.maximumDepth, flag: "--d-depth")
            try override("--d-depth", String(dDepth)) { $0.dDepth = dDepth }
        }
        if let dPatch {
            try Require.int(dPatch, in: side, flag: "--d-patch")
            try override("--d-patch", String(dPatch)) { $0.patchSize = dPatch }
        }
        if imageSkips == true { try override("--image-skips", "") { $0.imageSkips = true } }
        try config.validate()
        return config
    }

    /// "256,128,64" → [256, 128, 64] for `--g-dims`; anything else throws naming the flag.
    public static func parseDims(_ text: String) throws(TrainingError) -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ $0 != nil }) else {
            throw .invalidOption(flag: "--g-dims", value: "'\(text)'", allowed: "three comma-separated integers (stage widths at 8×8, 16×16, 32×32 for 32×32 images)")
        }
        return parts.map { $0! }
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
        try agree("--g-dims", gDims, config.stageDims, show: { $0.map(String.init).joined(separator: ",") })
        try agree("--d-dim", dDim, config.dfDim)
        try agree("--d-depth", dDepth, config.dDepth)
        try agree("--d-patch", dPatch, config.patchSize)
        try agree("--image-skips", imageSkips, config.hasImageSkips)
        if let stored = options.data { try agree("--data", data, stored) }
        try agree("--batch", batch, options.batch)
        try agree("--g-batch", gBatch, options.gBatch)
        try agree("--n-critic", nCritic, options.nCritic)
        try agree("--loss", try loss.map(Self.parseLoss), options.loss, show: \.rawValue)
        try agree("--r1-gamma", r1Gamma, options.r1Gamma)
        try agree(gLr != nil ? "--g-lr" : "--lr", gLr ?? lr, options.gLearningRate)
        try agree(dLr != nil ? "--d-lr" : "--lr", dLr ?? lr, options.dLearningRate)
        // A run stored without a decay may be given one when resumed (annealing a run that has levelled off);
        // one stored must be repeated as it is.
        if let text = lrDecay {
            let given = try LearningRateDecay(parsing: text)
            if let stored = options.lrDecay { try agree("--lr-decay", given, stored, show: \.description) }
            options.lrDecay = given
        }
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
        try agree("--precision", try precision.map(Self.parsePrecision), options.precision, show: \.rawValue)
        let spec = options.data ?? data ?? Self.defaultData
        let source = try DataSource(parsing: spec, dataDir: dataDir)
        guard source.channels == config.channels else {
            throw TrainingError.incompatibleCheckpoint(path: file.source, reason: "it was trained on \(config.channels)-channel images; --data \(spec) "
                                                       + "gives \(source.channels)-channel images")
        }
        options.data = spec
        return Run(config: config, options: options, source: source)
    }

    /// "fp32" or "bf16" for `--precision`; anything else throws naming the flag.
    public static func parsePrecision(_ name: String) throws(TrainingError) -> MatmulPrecision {
        guard let p = MatmulPrecision(rawValue: name) else {
            throw .unknownValue(flag: "--precision", value: name, known: MatmulPrecision.allCases.map(\.rawValue))
        }
        return p
    }

    static func parseLoss(_ name: String) throws(TrainingError) -> GANLoss {
        guard let l = GANLoss(rawValue: name) else {
            throw .invalidOption(flag: "--loss", value: "'\(name)'", allowed: "one of " + GANLoss.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return l
    }
}
