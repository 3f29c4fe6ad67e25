// The TransGAN training loop (reference §3) as a library type so tests and executables share it:
// D steps with WGAN-GP-eps (gradient penalty through D and its DiffAugment, second-order autodiff) or hinge,
// a G step every n_critic D steps, global-norm clipping, Adam β = (0, 0.99), an EMA generator with the
// StyleGAN2-ADA warm-up, checkpoints holding everything a bit-identical resume needs.
//
// Data parallelism (ShardPlan): each D and G batch is split into `shards`, each drawing from its own random
// stream; a process group's members compute their shards and sum the weighted gradients and scalars in one
// exchange per network and step, then apply the same clipped update, so weights, optimiser state and EMA stay
// identical without being sent. Losses are means within a shard (the drift term squares a shard's mean, as a
// per-process loss does in PyTorch DDP); the numbers depend on the shard count, not on the number of processes.
//
// Deliberate difference from the official loop: D's gradients are computed fresh for each D step from the D
// loss only. The official code leaks −∇θ_D E[D(G(z'))] from each G step into the next D update (D's grads are
// zeroed only after D steps); we do not replicate that leak.
import Foundation
import Atelier
import AtelierMedia

/// The adversarial loss.
public enum GANLoss: String, Sendable, Codable, CaseIterable {
    /// L_D = −E[D(x_r)] + E[D(G(z))] + λ·GP + ε·(E[D(x_r)])², L_G = −E[D(G(z))].
    case wganGPEps = "wgangp-eps"
    /// L_D = E[relu(1 − D(x_r))] + E[relu(1 + D(G(z)))], L_G = −E[D(G(z))].
    case hinge
    /// Non-saturating logistic loss with an R1 penalty on real images (StyleGAN2's recipe; not TransGAN's):
    /// L_D = E[softplus(D(G(z)))] + E[softplus(−D(x_r))] + (γ/2)·E[‖∇ₓD(x_r)‖²], L_G = E[softplus(−D(G(z)))].
    case logisticR1 = "logistic-r1"
}

/// Scalars from one D step (and the G step that followed it, if any).
public struct StepStatistics: Sendable, Equatable {
    public var step: Int
    public var dLoss: Double
    public var gLoss: Double?
    public var gradientPenalty: Double
    public var dReal: Double
    public var dFake: Double
    public var dGradNorm: Double
    public var gGradNorm: Double?
    public var emaBeta: Double?
}

public final class Trainer: @unchecked Sendable {
    public let config: TransGANConfiguration
    public let options: TrainingOptions
    public let dtype: DType
    public let generator: Generator
    public let discriminator: Discriminator
    public let emaGenerator: Generator
    public let gOptimizer: Adam
    public let dOptimizer: Adam
    /// Source of every training-time draw (batches, flips, z, augmentation, noise, α): shard 0's stream, or the
    /// stream of the shard being computed during a step.
    public private(set) var rng: RandomGenerator
    /// Each shard's stream; a member advances only its own shards' (checkpoints gather them).
    private var shardStreams: [RandomGenerator]
    /// Parts of each batch with their own streams, spread over `group` (1: a plain single-process run).
    public let shards: Int
    /// The processes that train together (`SingleProcess` unless started by mpirun).
    public let group: ProcessGroup
    private var dReducer: GradientReducer?, gReducer: GradientReducer?
    /// What this run has exchanged with the group so far (D and G gradients).
    public var communication: CommunicationSummary {
        var summary = CommunicationSummary()
        summary.add(dReducer)
        summary.add(gReducer)
        return summary
    }
    /// Completed D steps.
    public private(set) var step = 0
    /// The step whose non-finite value stopped training: from then on the trainer takes no steps and writes
    /// no checkpoints (the D update, data draws or RNG of that step may already have happened).
    public private(set) var failedStep: Int? = nil
    public let data: ImageDataset

    /// With a process group, every member must call this with the same arguments; they start from the root's
    /// weights.
    public init(config: TransGANConfiguration, options: TrainingOptions, data: ImageDataset, dtype: DType = .float32,
                shards: Int = 1, group: ProcessGroup = SingleProcess()) throws {
        try config.validate()
        guard data.channels == config.channels, data.height == config.imageSize, data.width == config.imageSize else {
            throw TrainingError.badOption("data is \(data.channels)×\(data.height)×\(data.width) but configuration '\(config.name)' expects "
                                          + "\(config.channels)×\(config.imageSize)×\(config.imageSize)")
        }
        try options.validate(for: config)
        guard data.count > 0 else { throw TrainingError.badOption("the dataset is empty") }
        self.config = config
        self.options = options
        self.dtype = dtype
        self.data = data
        let initRNG = RandomGenerator(seed: options.seed)
        generator = try Generator(config, dtype: dtype, rng: initRNG)
        discriminator = try Discriminator(config, augmentation: try DiffAugment(policy: options.augment), dtype: dtype, rng: initRNG)
        emaGenerator = try Generator(config, dtype: dtype, rng: initRNG)
        emaGenerator.copyState(from: generator)
        generator.useMatmulPrecision(options.precision)
        discriminator.useMatmulPrecision(options.precision)
        gOptimizer = Adam(parameters: generator.namedParameters(), learningRate: options.gLearningRate,
                          betas: (options.beta1, options.beta2), eps: 1e-8)
        dOptimizer = Adam(parameters: discriminator.namedParameters(), learningRate: options.dLearningRate,
                          betas: (options.beta1, options.beta2), eps: 1e-8)
        rng = RandomGenerator(seed: options.seed &+ 1)
        self.shards = shards
        self.group = group
        shardStreams = [rng] + (1..<max(shards, 1)).map { Self.freshStream(seed: options.seed, shard: $0, step: 0) }
        try Self.checkSharding(shards: shards, group: group, options: options, dtype: dtype)
        do {
            try group.broadcast(generator.stateDict().map(\.1) + discriminator.stateDict().map(\.1) + emaGenerator.stateDict().map(\.1))
        } catch { throw TrainingError.distributed("\(error)") }
    }

    static func checkSharding(shards: Int, group: ProcessGroup, options: TrainingOptions, dtype: DType) throws(TrainingError) {
        for (what, batch) in [("--batch", options.batch), ("--g-batch", options.gBatch), ("--gp-batch", options.gpBatch ?? options.batch)] {
            if ShardPlan(batch: batch, shards: shards) == nil {
                throw .invalidOption(flag: "--shards", value: String(shards), allowed: "between 1 and \(what) (\(batch)), one sample per shard at least")
            }
        }
        if shards < group.size {
            throw .invalidOption(flag: "--shards", value: String(shards), allowed: "at least the number of MPI ranks (\(group.size)), so that every rank has work")
        }
        if dtype != .float32 && (shards > 1 || group.size > 1) {
            throw .badOption("data-parallel training exchanges float32 gradients; this trainer is \(dtype)")
        }
    }

    /// A stream for a shard the checkpoint does not hold, from the seed, the shard and the step, so that a shard
    /// added on resume does not replay another's draws.
    static func freshStream(seed: UInt64, shard: Int, step: Int) -> RandomGenerator {
        RandomGenerator(seed: seed ^ 0x5EED_5A4D_0000_0000 ^ (UInt64(shard) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(step) &* 0xD1B5_4A32_D192_ED03))
    }

    /// The gradients and scalars of one network's step, summed over every shard of the group with the shards'
    /// weights. `build(shard, size)` makes the graph under that shard's stream (`rng`). One shard on one process
    /// is evaluated as built, so that run is the plain single-process loop.
    private func sharded(_ batch: Int, reducer: inout GradientReducer?,
                         _ build: (_ shard: Int, _ size: Int) -> (scalars: [Tensor], gradients: [Tensor])) throws(TrainingError) -> (gradients: [Tensor], scalars: [Double]) {
        let plan = ShardPlan(batch: batch, shards: shards)!
        if shards == 1 && group.size == 1 {
            let (scalars, grads) = build(0, batch)
            evaluate(scalars + grads)
            return (grads, scalars.map { $0.item() })
        }
        defer { rng = shardStreams[0] }
        for shard in plan.shards(ofRank: group.rank, ranks: group.size) {
            rng = shardStreams[shard]
            let (scalars, grads) = build(shard, plan.size(of: shard))
            evaluate(scalars + grads)
            if reducer == nil { reducer = GradientReducer(shapes: grads.map(\.shape), scalarCount: scalars.count) }
            reducer!.add(gradients: grads, scalars: scalars.map { $0.item() }, weight: plan.weight(of: shard))
        }
        let r = reducer!
        defer { r.reset() }
        do { try r.reduce(over: group) } catch { throw .distributed("\(error)") }
        return (r.gradients(), r.scalars)
    }

    // MARK: - Data

    /// A real batch `[B, C, S, S]` drawn uniformly with replacement, randomly flipped.
    func realBatch(_ n: Int) -> Tensor {
        let size = data.imageSize, s = data.width
        var pixels = [Float](repeating: 0, count: n * size)
        for i in 0..<n {
            let idx = rng.nextInt(in: 0..<data.count)
            let flip = options.flip && rng.nextUniform() < 0.5
            data.pixels.withUnsafeBufferPointer { src in
                let base = idx * size
                for r in 0..<(size / s) {             // rows over channels × height
                    for c in 0..<s {
                        pixels[i * size + r * s + c] = src[base + r * s + (flip ? s - 1 - c : c)]
                    }
                }
            }
        }
        let t = Tensor(shape: [n, data.channels, s, s], floats: pixels)
        return t.cast(to: dtype)
    }

    // MARK: - Losses (graph builders)

    /// D loss and its parts (batch means of the raw scores) for a real batch and a detached fake batch.
    /// - Parameter penaltyBatch: the gradient penalty's sample count (default: `options.gpBatch`, or all).
    public func discriminatorLoss(real: Tensor, fake: Tensor, penaltyBatch: Int? = nil) -> (loss: Tensor, gp: Tensor, dReal: Tensor, dFake: Tensor) {
        let outReal = discriminator(real, rng: rng)                                   // [B, 1]
        let outFake = discriminator(fake, rng: rng)                                   // [B, 1]
        let dReal = outReal.mean(), dFake = outFake.mean()
        // Lazy regularisation: the penalty on every gpEvery-th step only, weighted gpEvery times.
        let penaltyDue = options.penaltyIsDue(atStep: step)
        let lazyWeight = Double(Swift.max(options.gpEvery, 1))
        switch options.loss {
        case .wganGPEps:
            let base = dFake - dReal + dReal.square() * options.driftWeight
            guard penaltyDue else { return (base, Tensor.zeros([], dtype: dtype), dReal, dFake) }
            var (gpReal, gpFake) = (real, fake)
            if let k = penaltyBatch ?? options.gpBatch, k < real.shape[0] {
                gpReal = real.sliced(axis: 0, 0, k)
                gpFake = fake.sliced(axis: 0, 0, k)
            }
            let gp = gradientPenalty(real: gpReal, fake: gpFake)
            return (base + gp * (options.gpWeight * lazyWeight), gp, dReal, dFake)
        case .hinge:
            let loss = (1 - outReal).relu().mean() + (1 + outFake).relu().mean()
            return (loss, Tensor.zeros([], dtype: dtype), dReal, dFake)
        case .logisticR1:
            let base = outFake.softplus().mean() + (-outReal).softplus().mean()
            guard penaltyDue else { return (base, Tensor.zeros([], dtype: dtype), dReal, dFake) }
            let r1 = r1Penalty(real: real, score: outReal)
            return (base + r1 * (options.r1Gamma / 2 * lazyWeight), r1, dReal, dFake)
        }
    }

    /// R1 = mean_b ‖∇ₓ D(x)‖² for real images `x` and their scores `D(x)` (the loss's own forward pass, so the
    /// penalty costs one double backward and no extra forward); differentiable w.r.t. D's parameters.
    public func r1Penalty(real: Tensor, score: Tensor) -> Tensor {
        let g = gradients(of: score.sum(), wrt: [real])[0]                                  // [B, C, S, S]
        return g.square().sum(axes: [1, 2, 3]).mean()
    }

    /// GP = mean_b (‖∇_x̂ D(x̂)‖₂ − 1)², x̂ = α·x_r + (1 − α)·x_f, α ~ U[0, 1) per sample; D(x̂) draws its own
    /// augmentation and noise. The returned tensor is differentiable w.r.t. D's parameters (double backward).
    public func gradientPenalty(real: Tensor, fake: Tensor, rng draws: RandomGenerator? = nil) -> Tensor {
        let draws = draws ?? rng
        let b = real.shape[0]
        let alpha = Tensor.uniform([b, 1, 1, 1], dtype: dtype, rng: draws)
        let xhat = alpha * real + (1 - alpha) * fake                                       // [B, C, S, S]
        let score = discriminator(xhat, rng: draws)                                   // [B, 1]
        let g = gradients(of: score.sum(), wrt: [xhat])[0]                                  // [B, C, S, S]
        let norm = g.square().sum(axes: [1, 2, 3]).sqrt()                                   // [B]
        return (norm - 1).square().mean()
    }

    /// L_G = −E[D(G(z))] for the WGAN and hinge losses, E[softplus(−D(G(z)))] for the logistic one.
    public func generatorLoss(batch n: Int) -> Tensor {
        let z = Tensor.normal([n, config.latentDim], dtype: dtype, rng: rng)
        let score = discriminator(generator(z), rng: rng)
        return options.loss == .logisticR1 ? (-score).softplus().mean() : -score.mean()
    }

    // MARK: - One iteration

    /// One D step and, when `step % nCritic == 0`, one G step and EMA update. Each network's losses and
    /// gradient norm are checked before its optimizer step, so a non-finite update is never applied: the value
    /// throws `TrainingError.nonFinite`, and the trainer refuses further steps and checkpoints
    /// (`failedStep`), so the last checkpoint written stays the last good state.
    @discardableResult
    public func trainStep() throws -> StepStatistics {
        if let failedStep { throw TrainingError.stoppedAfterFailure(step: failedStep) }
        do { return try unguardedStep() } catch {
            failedStep = step
            throw error
        }
    }

    private func unguardedStep() throws(TrainingError) -> StepStatistics {
        func finite(_ value: Double, _ what: String) throws(TrainingError) {
            if !value.isFinite { throw .nonFinite(step: step, what: "\(what) (\(value))") }
        }
        let dParams = discriminator.parameters().map(\.tensor)
        let gpPlan = options.gpBatch.flatMap { ShardPlan(batch: $0, shards: shards) }
        let (dGrads, dScalars) = try sharded(options.batch, reducer: &dReducer) { shard, size in
            let real = realBatch(size)
            let z = Tensor.normal([size, config.latentDim], dtype: dtype, rng: rng)
            let fake = generator(z).detached()
            let (loss, gp, dReal, dFake) = discriminatorLoss(real: real, fake: fake, penaltyBatch: gpPlan?.size(of: shard))
            return ([loss, gp, dReal, dFake], gradients(of: loss, wrt: dParams))
        }
        let dLoss = dScalars[0]
        try finite(dLoss, "D loss")
        let (gpValue, dRealValue, dFakeValue) = (dScalars[1], dScalars[2], dScalars[3])
        try finite(gpValue, "gradient penalty")
        try finite(dRealValue, "D(real)")
        try finite(dFakeValue, "D(fake)")
        let (dNorm, dFactor) = clipFactor(gradients: dGrads, maxNorm: options.clipNorm)
        try finite(dNorm, "D gradient norm")
        let rates = options.learningRates(atStep: step)
        dOptimizer.learningRate = rates.d
        dOptimizer.step(gradients: dGrads, gradientScale: dFactor)
        var stats = StepStatistics(step: step, dLoss: dLoss, gLoss: nil, gradientPenalty: gpValue, dReal: dRealValue,
                                   dFake: dFakeValue, dGradNorm: dNorm, gGradNorm: nil, emaBeta: nil)

        if step % options.nCritic == 0 {
            let gParams = generator.parameters().map(\.tensor)
            let (gGrads, gScalars) = try sharded(options.gBatch, reducer: &gReducer) { _, size in
                let gLoss = generatorLoss(batch: size)
                return ([gLoss], gradients(of: gLoss, wrt: gParams))
            }
            let gl = gScalars[0]
            try finite(gl, "G loss")
            let (gNorm, gFactor) = clipFactor(gradients: gGrads, maxNorm: options.clipNorm)
            try finite(gNorm, "G gradient norm")
            let beta = options.emaBeta(atStep: step)
            guard beta >= 0 && beta <= 1 else { throw .nonFinite(step: step, what: "EMA β (\(beta))") }
            gOptimizer.learningRate = rates.g
            gOptimizer.step(gradients: gGrads, gradientScale: gFactor)
            updateMovingAverage(target: emaGenerator, source: generator, beta: beta)
            stats.gLoss = gl
            stats.gGradNorm = gNorm
            stats.emaBeta = beta
        }
        step += 1
        return stats
    }

    // MARK: - Sampling

    /// Images `[N, C, S, S]` from the EMA generator (or the raw one) for the given latents `[N, latent]`.
    public func sample(z: Tensor, ema: Bool = true) -> Tensor {
        (ema ? emaGenerator : generator)(z.cast(to: dtype))
    }

    // MARK: - Checkpoints

    /// Keys: `gen.*`, `dis.*`, `gen_ema.*` (state_dict names), `opt_gen.exp_avg.*` … (Adam state), metadata
    /// `step`, `rng.seed`/`rng.offset`, `config` (JSON) and `options` (JSON: every training option, so a resume
    /// needs nothing but the file). Throws after a failed step (`failedStep`): that state is not a good one.
    /// With several shards, each shard's stream is stored (`rng.1`, …) and `shards` says how many; on several
    /// processes call `gatherStreams()` on every member first.
    public func checkpoint() throws(TrainingError) -> SafeTensorsFile {
        if let failedStep { throw .stoppedAfterFailure(step: failedStep) }
        var file = SafeTensorsFile()
        for shard in 1..<max(shards, 1) { file.store(shardStreams[shard], name: "rng.\(shard)") }
        if shards > 1 { file.metadata["shards"] = String(shards) }
        file.store(generator, prefix: "gen.")
        file.store(discriminator, prefix: "dis.")
        file.store(emaGenerator, prefix: "gen_ema.")
        file.store(gOptimizer, prefix: "opt_gen.")
        file.store(dOptimizer, prefix: "opt_dis.")
        file.store(rng, name: "rng")
        file.metadata["step"] = String(step)
        file.metadata["config"] = Self.json(config)
        file.metadata["options"] = Self.json(options)
        file.metadata["format"] = "atelier-transgan-1"
        return file
    }

    /// Only the generators (EMA and raw) and the configuration: what sampling and evaluation need.
    public func generatorSnapshot() throws(TrainingError) -> SafeTensorsFile {
        if let failedStep { throw .stoppedAfterFailure(step: failedStep) }
        var file = SafeTensorsFile()
        file.store(generator, prefix: "gen.")
        file.store(emaGenerator, prefix: "gen_ema.")
        file.metadata["step"] = String(step)
        file.metadata["config"] = Self.json(config)
        file.metadata["format"] = "atelier-transgan-generators-1"
        return file
    }

    /// Every member's shard streams, on every member.
    public func gatherStreams() throws(TrainingError) {
        var states = shardStreams.map { [$0.seed, $0.offset] }
        do {
            try group.gatherShardStates(&states, owned: ShardPlan(batch: shards, shards: shards)!.shards(ofRank: group.rank, ranks: group.size))
        } catch { throw .distributed("\(error)") }
        for (stream, state) in zip(shardStreams, states) { stream.reposition(seed: state[0], offset: state[1]) }
    }

    /// Writes `checkpoint()` atomically. With a process group every member calls this; the root writes, and a
    /// failure to write fails it on every member.
    public func saveCheckpoint(to url: URL) throws {
        if let failedStep { throw TrainingError.stoppedAfterFailure(step: failedStep) }
        let states = [generator, discriminator, emaGenerator].flatMap { $0.stateDict().map(\.1) }
            + gOptimizer.namedState().map(\.1) + dOptimizer.namedState().map(\.1)
        let identical: Bool
        do { identical = try group.holdIdentical(states) } catch { throw TrainingError.distributed("\(error)") }
        if !identical { throw TrainingError.distributed("the ranks' weights differ at step \(step); the processes are not running the same code and data") }
        try gatherStreams()
        // checkpoint() refuses after a failed step, before the file is touched.
        try group.runOnRoot("writing \(url.path)") { try checkpoint().write(to: url) }
    }

    /// Restores a checkpoint written by `checkpoint()`; the configuration must match exactly (the options may
    /// differ: the caller decides, see `TrainingFlags.resolve`). The stored configuration, options and step are
    /// validated and every stored tensor must be finite before anything changes.
    public func restore(from file: SafeTensorsFile) throws {
        let saved = try file.transGANConfiguration()
        guard saved == config else {
            throw TrainingError.incompatibleCheckpoint(path: file.source, reason: "it was trained with configuration '\(saved.name)', this run uses '\(config.name)'; "
                                                       + "they differ in " + saved.differences(from: config).joined(separator: ", ")
                                                       + " (checkpoint vs this run)")
        }
        _ = try file.transGANOptions(for: saved)
        let savedStep = try file.transGANStep()
        try file.requireFiniteTensors()
        try file.restore(generator, prefix: "gen.")
        try file.restore(discriminator, prefix: "dis.")
        try file.restore(emaGenerator, prefix: "gen_ema.")
        try file.restore(gOptimizer, prefix: "opt_gen.")
        try file.restore(dOptimizer, prefix: "opt_dis.")
        rng = try file.restoreGenerator(name: "rng")
        let storedShards = try file.transGANShards()
        var streams = [rng]
        for shard in 1..<max(shards, 1) {
            streams.append(shard < storedShards ? try file.restoreGenerator(name: "rng.\(shard)")
                                                : Self.freshStream(seed: options.seed, shard: shard, step: savedStep))
        }
        shardStreams = streams
        step = savedStep
        failedStep = nil
    }

    /// Loads only the generators (EMA and raw) of a checkpoint into fresh models, for sampling. The stored
    /// configuration is validated and the generator tensors must be finite.
    public static func loadGenerators(from file: SafeTensorsFile) throws -> (config: TransGANConfiguration, generator: Generator, ema: Generator) {
        let config = try file.transGANConfiguration()
        try file.requireFiniteTensors(prefixes: ["gen.", "gen_ema."])
        let g = RandomGenerator(seed: 0)
        let gen = try Generator(config, rng: g), ema = try Generator(config, rng: g)
        try file.restore(gen, prefix: "gen.", strict: false)
        try file.restore(ema, prefix: "gen_ema.", strict: false)
        return (config, gen, ema)
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self)
    }
}
