// The gradient penalty's parameter gradient (a second-order derivative through D and DiffAugment) against
// central differences in Float64, and short `micro` runs on synthetic data: losses move, and a checkpoint
// resumes to bit-identical losses.
import Foundation
import Testing
import Atelier
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct TrainingTests {
    func microTrainer(dtype: DType = .float32, loss: GANLoss = .wganGPEps, seed: UInt64 = 11) throws -> Trainer {
        var options = TrainingOptions()
        options.batch = 4
        options.gBatch = 4
        options.nCritic = 2
        options.loss = loss
        options.seed = seed
        options.emaKimg = 1
        let data = DataSource.synthetic(count: 32, channels: 3, size: 32, seed: 3)
        return try Trainer(config: .micro, options: options, data: data, dtype: dtype)
    }

    @Test func gradientPenaltyGradientMatchesFiniteDifferences() throws {
        let t = try microTrainer(dtype: .float64)
        let real = t.realBatch(2)
        let fake = t.generator(Tensor.normal([2, t.config.latentDim], dtype: .float64, rng: RandomGenerator(seed: 1))).materialized()
        // Fresh generator with the same state for every evaluation: identical augmentation, noise and α.
        checkDiscriminatorGradients(of: { t.gradientPenalty(real: real, fake: fake, rng: RandomGenerator(seed: 21, offset: 5)) }, trainer: t)
    }

    @Test func r1PenaltyGradientMatchesFiniteDifferences() throws {
        let t = try microTrainer(dtype: .float64, loss: .logisticR1)
        let real = t.realBatch(2)
        func r1() -> Tensor {
            let score = t.discriminator(real, rng: RandomGenerator(seed: 21, offset: 5))
            return t.r1Penalty(real: real, score: score)
        }
        // The penalty is ‖∇ₓD‖² summed over pixels: compare with the input gradient computed directly.
        let score = t.discriminator(real, rng: RandomGenerator(seed: 21, offset: 5))
        let g = gradients(of: score.sum(), wrt: [real])[0].doubles()
        let direct = g.reduce(0) { $0 + $1 * $1 } / 2
        #expect(abs(r1().item() - direct) <= 1e-12 * max(1, direct))
        checkDiscriminatorGradients(of: r1, trainer: t)
    }

    /// Central differences (Float64, ε = 1e-5) on three random entries of a dozen D parameters, noise injection on.
    func checkDiscriminatorGradients(of penalty: () -> Tensor, trainer t: Trainer) {
        // Make the noise injection matter (its strength starts at 0).
        for (name, p) in t.discriminator.namedParameters() where name.hasSuffix("noise_strength_1") { p.assignDoubles([0.3]) }
        let named = t.discriminator.namedParameters()
        let picks = ["fRGB_1.weight", "fRGB_2.weight", "blocks_1.0.attn.qkv.weight", "blocks_1.0.attn.relative_position_bias_table",
                     "blocks_1.0.attn.noise_strength_1", "blocks_1.0.norm1.norm.weight", "blocks_2.0.mlp.fc1.weight",
                     "last_block.0.attn.proj.weight", "norm.norm.bias", "head.weight", "pos_embed_1", "cls_token"]
        let params = picks.map { n in named.first { $0.0 == n }!.1 }
        let grads = gradients(of: penalty(), wrt: params.map(\.tensor))
        evaluate(grads)
        var rng = TestRNG(99)
        let eps = 1e-5
        for (k, p) in params.enumerated() {
            let analytic = grads[k].doubles()
            for _ in 0..<3 {
                let i = rng.index(below: p.count)
                let ptr = p.buffer.pointer(as: Double.self)
                let v = ptr[i]
                ptr[i] = v + eps; let up = penalty().item()
                ptr[i] = v - eps; let down = penalty().item()
                ptr[i] = v
                let numeric = (up - down) / (2 * eps)
                let ok = abs(numeric - analytic[i]) <= 1e-6 + 1e-4 * max(abs(numeric), abs(analytic[i]))
                #expect(ok, "\(picks[k])[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)")
            }
        }
    }

    @Test func microRunMovesAndResumesBitIdentically() throws {
        let a = try microTrainer()
        var first: [StepStatistics] = []
        for _ in 0..<4 { first.append(try a.trainStep()) }
        #expect(Set(first.map(\.dLoss)).count == 4, "D losses should move: \(first.map(\.dLoss))")
        let gLosses = first.compactMap(\.gLoss)
        #expect(gLosses.count == 2 && gLosses[0] != gLosses[1], "G losses should move: \(gLosses)")
        #expect(first.allSatisfy { $0.dLoss.isFinite && $0.gradientPenalty > 0 })

        let scratch = try ScratchDirectory("transgan-resume")
        defer { scratch.remove() }
        let url = scratch.file("checkpoint.safetensors")
        try a.saveCheckpoint(to: url)
        var continued: [StepStatistics] = []
        for _ in 0..<3 { continued.append(try a.trainStep()) }

        let b = try microTrainer(seed: 999)   // different init and stream: everything must come from the file
        do {
            // A different seed is a different run, but the same configuration: restore replaces all state.
            try b.restore(from: SafeTensorsFile.read(from: url))
        }
        #expect(b.step == 4)
        var resumed: [StepStatistics] = []
        for _ in 0..<3 { resumed.append(try b.trainStep()) }
        #expect(resumed == continued)
    }

    @Test func checkpointFromAnotherConfigurationIsRejected() throws {
        let a = try microTrainer()
        var options = TrainingOptions()
        options.batch = 2
        let other = try Trainer(config: .micro.with(channels: 1), options: options,
                                data: DataSource.synthetic(count: 4, channels: 1, size: 32, seed: 1))
        #expect(throws: TrainingError.self) { try other.restore(from: a.checkpoint()) }
    }

    @Test func logisticR1RunsWithLazyPenalty() throws {
        var options = TrainingOptions()
        options.batch = 4
        options.gBatch = 4
        options.nCritic = 1
        options.loss = .logisticR1
        options.gpEvery = 2
        options.r1Gamma = 1
        let t = try Trainer(config: .micro, options: options, data: DataSource.synthetic(count: 32, channels: 3, size: 32, seed: 3))
        var stats: [StepStatistics] = []
        for _ in 0..<4 { stats.append(try t.trainStep()) }
        #expect(stats.allSatisfy { $0.dLoss.isFinite && $0.gLoss?.isFinite == true })
        #expect(Set(stats.map(\.dLoss)).count == 4 && Set(stats.compactMap(\.gLoss)).count == 4)
        // The penalty is computed on even steps only; log 2 ≈ 0.693 per term is where the logistic loss starts.
        #expect(stats[0].gradientPenalty > 0 && stats[2].gradientPenalty > 0)
        #expect(stats[1].gradientPenalty == 0 && stats[3].gradientPenalty == 0)
        #expect(abs(stats[1].dLoss - 2 * log(2.0)) < 0.5)
    }

    @Test func gradientPenaltyOnPartOfTheBatch() throws {
        var options = TrainingOptions()
        options.batch = 4
        options.gBatch = 4
        options.gpBatch = 2
        let data = DataSource.synthetic(count: 32, channels: 3, size: 32, seed: 3)
        let t = try Trainer(config: .micro, options: options, data: data)
        let s = try t.trainStep()
        #expect(s.dLoss.isFinite && s.gradientPenalty > 0)
        options.gpBatch = 5
        #expect(throws: TrainingError.self) { try Trainer(config: .micro, options: options, data: data) }
        options.gpBatch = 0
        #expect(throws: TrainingError.self) { try Trainer(config: .micro, options: options, data: data) }
    }

    @Test func hingeLossRuns() throws {
        let t = try microTrainer(loss: .hinge)
        let s = try t.trainStep()
        #expect(s.dLoss.isFinite && s.gLoss != nil)
    }

    @Test func emaScheduleMatchesReference() {
        var o = TrainingOptions()
        o.batch = 64
        #expect(o.emaBeta(atStep: 0) == 0)
        #expect(abs(o.emaBeta(atStep: 1000) - 0.993092) < 1e-6)
        #expect(abs(o.emaBeta(atStep: 10000) - 0.999307) < 1e-6)
        #expect(abs(o.emaBeta(atStep: 16390) - 0.999577) < 1e-6)
        #expect(abs(o.emaBeta(atStep: 100000) - 0.999911) < 1e-6)
    }

}
}
