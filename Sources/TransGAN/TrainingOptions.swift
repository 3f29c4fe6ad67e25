// Everything about a TransGAN run that is not the model's shape, stored as JSON in every checkpoint so a
// resume continues with the same options; `validate(for:)` bounds each value (see `TransGANLimits`) and
// names the train-transgan flag that sets it.
import Foundation
import Atelier

/// Everything about training that is not the model's shape.
public struct TrainingOptions: Sendable, Equatable, Codable {
    public var loss: GANLoss = .wganGPEps
    /// D batch (real and fake).
    public var batch: Int = 64
    /// G batch for the G step.
    public var gBatch: Int = 128
    /// D steps per G step; a G step runs when step % nCritic == 0.
    public var nCritic: Int = 4
    public var gLearningRate: Double = 1e-4
    public var dLearningRate: Double = 1e-4
    /// Linear decay of both rates to 0 over a window of D steps (`--lr-decay`); nil: constant rates (official default).
    public var lrDecay: LearningRateDecay? = nil
    public var beta1: Double = 0
    public var beta2: Double = 0.99
    /// Global L2 clip on each network's gradients.
    public var clipNorm: Double = 5
    /// Gradient-penalty weight λ.
    public var gpWeight: Double = 10
    /// Lazy gradient penalty (GP or R1): compute it only on D steps where step % gpEvery == 0, weighted λ·gpEvery
    /// (StyleGAN2-style lazy regularisation; 1 = every step, the official recipe).
    public var gpEvery: Int = 1
    /// Samples of the D batch the gradient penalty is computed on (nil: all of them, official). The penalty is
    /// about a third of a `tiny` iteration; half the batch made the step 19 % shorter, for a noisier (still
    /// unbiased) estimate of the same mean.
    public var gpBatch: Int? = nil
    /// R1 weight γ for `logistic-r1` (the penalty is (γ/2)·E‖∇ₓD(x_r)‖², lazily every `gpEvery` steps).
    public var r1Gamma: Double = 0.1
    /// Drift weight ε on (E[D(x_r)])².
    public var driftWeight: Double = 1e-3
    /// EMA half-life in thousands of images (500 official).
    public var emaKimg: Double = 500
    /// EMA warm-up: the half-life is at most `emaWarmup` × images seen so far (0.1 official; 0 = fixed `emaBeta`).
    public var emaWarmup: Double = 0.1
    /// Fixed EMA β when `emaWarmup` is 0.
    public var emaBeta: Double = 0.9999
    /// DiffAugment policy.
    public var augment: String = "translation,cutout,color"
    /// Random horizontal flips of real images.
    public var flip: Bool = true
    public var seed: UInt64 = 12345
    /// The training data as given to train-transgan's `--data` (the trainer itself only sees the images);
    /// recorded so a resume reads the same source. nil in checkpoints written before it was recorded.
    public var data: String? = nil
    /// The arithmetic of both networks' matrix products during training (`--precision`): `.bf16` is mixed
    /// precision (bf16 GEMM inputs, fp32 accumulation, weights, optimiser and every other op). The EMA generator
    /// that samples and is scored stays fp32.
    public var precision: MatmulPrecision {
        get { storedPrecision ?? .fp32 }
        set { storedPrecision = newValue == .fp32 ? nil : newValue }
    }
    /// nil for fp32, so an fp32 run's checkpoint holds the same options JSON as before the setting existed.
    private var storedPrecision: MatmulPrecision? = nil

    public init() {}

    /// β of the EMA update after D step `step`: 0.5^(B / max(min(kimg·1000, warmup·B·step), 1e-8)).
    public func emaBeta(atStep step: Int) -> Double {
        guard emaWarmup != 0 else { return emaBeta }
        let b = Double(batch)
        var nimg = emaKimg * 1000
        nimg = Swift.min(nimg, Double(step) * b * emaWarmup)
        return Foundation.pow(0.5, b / Swift.max(nimg, 1e-8))
    }

    /// The generator's and discriminator's learning rates at D step `step` (0-based), after the decay.
    public func learningRates(atStep step: Int) -> (g: Double, d: Double) {
        let f = lrDecay?.factor(atStep: step) ?? 1
        return (gLearningRate * f, dLearningRate * f)
    }

    /// Whether D step `step` (0-based) computes the gradient penalty or R1 (lazily every `gpEvery` steps); the
    /// hinge loss has none.
    public func penaltyIsDue(atStep step: Int) -> Bool {
        loss != .hinge && (gpEvery <= 1 || step % gpEvery == 0)
    }

    // MARK: - Validation

    /// Checks every value against its documented range and the activation budget of `config`; the error
    /// names the train-transgan flag.
    public func validate(for config: TransGANConfiguration) throws(TrainingError) {
        // The D batch first: the G batch defaults to twice it, so a too-large --batch is reported as itself.
        try Require.int(batch, in: TransGANLimits.batch, flag: "--batch")
        if let k = gpBatch {
            try Require.int(k, in: 1...batch, flag: "--gp-batch", " (samples of the D batch for the gradient penalty)")
        }
        try checkActivationBudget(for: config, dStepOnly: true)
        try Require.int(gBatch, in: TransGANLimits.batch, flag: "--g-batch")
        try Require.int(nCritic, in: TransGANLimits.nCritic, flag: "--n-critic")
        try Require.int(gpEvery, in: TransGANLimits.gpEvery, flag: "--gp-every")
        try Require.finite(gLearningRate, flag: "--g-lr")
        try Require.finite(dLearningRate, flag: "--d-lr")
        try lrDecay?.validate()
        for (name, b) in [("Adam β1", beta1), ("Adam β2", beta2)] where !(b >= 0 && b < 1) {
            throw .invalidOption(flag: name, value: String(b), allowed: "in [0, 1)")
        }
        // An infinite clip norm means no clipping; NaN or ≤ 0 would scale every update to NaN or zero.
        if !(clipNorm > 0) { throw .invalidOption(flag: "clip norm", value: String(clipNorm), allowed: "a number > 0") }
        try Require.finite(gpWeight, flag: "gradient-penalty weight", zeroAllowed: true)
        try Require.finite(driftWeight, flag: "drift weight", zeroAllowed: true)
        try Require.finite(r1Gamma, flag: "--r1-gamma", zeroAllowed: true)
        try Require.finite(emaKimg, flag: "--ema-kimg", " (EMA half-life in thousands of images)")
        try Require.finite(emaWarmup, flag: "--ema-warmup", zeroAllowed: true, " (0: fixed --ema-beta)")
        if !(emaBeta >= 0 && emaBeta <= 1) { throw .invalidOption(flag: "--ema-beta", value: String(emaBeta), allowed: "in [0, 1]") }
        do { _ = try DiffAugment(policy: augment) } catch {
            guard case let .invalid(_, reason) = error else { throw .badOption("--augment '\(augment)': \(error)") }
            throw .badOption("--augment '\(augment)': \(reason)")
        }
        try checkActivationBudget(for: config)
    }

    /// Estimated activation bytes of one D step (G forward for the fakes, D forward and backward on real and
    /// fake, the penalty's double backward on `gpBatch` images) and of one G step (G and D forward and backward).
    /// The weights were fitted to the executor's planned peak (`plan`) on micro, tiny, grid64 and s-lite
    /// between batches 4 and 8: per image the estimate is 0.96–1.5× the planned growth for a D step and
    /// 1.3–2.5× for a G step (the fixed, batch-independent part is left out).
    public func stepActivationBytes(for config: TransGANConfiguration) -> (dStep: Double, gStep: Double) {
        let g = config.generatorActivationsPerImage, d = config.discriminatorActivationsPerImage
        let penalised = loss == .hinge ? 0 : Double(gpBatch ?? batch)
        let bytes = 4.0   // float32
        let dStep = bytes * (Double(batch) * (g / 2 + 1.2 * d) + 5 * penalised * d)
        let gStep = bytes * Double(gBatch) * (g + d)
        return (dStep, gStep)
    }

    func checkActivationBudget(for config: TransGANConfiguration, dStepOnly: Bool = false) throws(TrainingError) {
        let budget = Double(TransGANLimits.activationBudgetBytes)
        let (dStep, gStep) = stepActivationBytes(for: config)
        func largest(_ fits: (Int) -> Bool) -> Int {
            var (lo, hi) = (0, TransGANLimits.batch.upperBound)                    // fits(lo) or lo == 0
            while lo < hi { let mid = (lo + hi + 1) / 2; if fits(mid) { lo = mid } else { hi = mid - 1 } }
            return lo
        }
        let gib = { (b: Double) in String(format: "%.1f GiB", b / Double(1 << 30)) }
        let budgetText = "\(TransGANLimits.activationBudgetBytes >> 30) GiB"
        if dStep > budget {
            let maxBatch = largest { var o = self; o.batch = $0; o.gpBatch = gpBatch.map { Swift.min($0, o.batch) }
                                     return o.stepActivationBytes(for: config).dStep <= budget }
            throw .invalidOption(flag: "--batch", value: String(batch),
                                 allowed: "at most \(maxBatch) for configuration '\(config.name)' (one D step would need about \(gib(dStep)) "
                                 + "of activations; the estimated budget is \(budgetText))")
        }
        if !dStepOnly && gStep > budget {
            let maxBatch = largest { var o = self; o.gBatch = $0; return o.stepActivationBytes(for: config).gStep <= budget }
            throw .invalidOption(flag: "--g-batch", value: String(gBatch),
                                 allowed: "at most \(maxBatch) for configuration '\(config.name)' (one G step would need about \(gib(gStep)) "
                                 + "of activations; the estimated budget is \(budgetText))")
        }
    }

    // MARK: - Decoding

    enum CodingKeys: String, CodingKey {
        case loss, batch, gBatch, nCritic, gLearningRate, dLearningRate, beta1, beta2, clipNorm, gpWeight, gpEvery, gpBatch
        case r1Gamma, driftWeight, emaKimg, emaWarmup, emaBeta, augment, flip, seed, data, lrDecay
        case storedPrecision = "precision"
    }

    /// Keys missing from an older checkpoint take the default: the option did not exist, so the run used it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingOptions()
        func v<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        loss = try v(.loss, d.loss); batch = try v(.batch, d.batch); gBatch = try v(.gBatch, d.gBatch); nCritic = try v(.nCritic, d.nCritic)
        gLearningRate = try v(.gLearningRate, d.gLearningRate); dLearningRate = try v(.dLearningRate, d.dLearningRate)
        beta1 = try v(.beta1, d.beta1); beta2 = try v(.beta2, d.beta2); clipNorm = try v(.clipNorm, d.clipNorm)
        gpWeight = try v(.gpWeight, d.gpWeight); gpEvery = try v(.gpEvery, d.gpEvery)
        gpBatch = try c.decodeIfPresent(Int.self, forKey: .gpBatch)
        r1Gamma = try v(.r1Gamma, d.r1Gamma); driftWeight = try v(.driftWeight, d.driftWeight)
        emaKimg = try v(.emaKimg, d.emaKimg); emaWarmup = try v(.emaWarmup, d.emaWarmup); emaBeta = try v(.emaBeta, d.emaBeta)
        augment = try v(.augment, d.augment); flip = try v(.flip, d.flip); seed = try v(.seed, d.seed)
        data = try c.decodeIfPresent(String.self, forKey: .data)
        lrDecay = try c.decodeIfPresent(LearningRateDecay.self, forKey: .lrDecay)
        precision = try v(.storedPrecision, MatmulPrecision.fp32)
    }
}
