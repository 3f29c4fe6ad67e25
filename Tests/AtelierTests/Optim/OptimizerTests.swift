// Optimiser updates against hand-computed values, schedules, EMA and clipping.
import Foundation
import Testing
@testable import Atelier

@Test func adamFirstStepMovesByLearningRate() {
    // After one step with bias correction, Adam moves each weight by lr·sign(g) (|g| ≫ eps), also with β1 = 0.
    for betas in [(0.9, 0.999), (0.0, 0.99)] {
        let p = Parameter(Tensor(shape: [3], values: [1, 2, 3]))
        let adam = Adam(parameters: [("w", p)], learningRate: 0.1, betas: betas)
        adam.step(gradients: [Tensor(shape: [3], values: [0.5, -2, 4])])
        let w = p.tensor.doubles()
        #expect(zip(w, [0.9, 2.1, 2.9]).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    }
}

@Test func adamWDecaysWeightsDirectly() {
    let p = Parameter(Tensor(shape: [1], values: [2]))
    let adamW = Adam(parameters: [("w", p)], learningRate: 0.1, weightDecay: 0.5, decoupled: true)
    adamW.step(gradients: [Tensor(shape: [1], values: [0])])
    // Zero gradient: only the decoupled decay acts, w ← w − lr·wd·w.
    #expect(Swift.abs(p.tensor.item() - 1.9) < 1e-6)
}

@Test func sgdMomentumMatchesPyTorchForm() {
    let p = Parameter(Tensor(shape: [1], values: [1]))
    let sgd = SGD(parameters: [("w", p)], learningRate: 0.1, momentum: 0.9)
    sgd.step(gradients: [Tensor(shape: [1], values: [1])])   // v = 1, w = 0.9
    sgd.step(gradients: [Tensor(shape: [1], values: [1])])   // v = 1.9, w = 0.71
    #expect(Swift.abs(p.tensor.item() - 0.71) < 1e-6)
}

@Test func clippingAndMovingAverage() {
    let g = [Tensor(shape: [2], values: [3, 0]), Tensor(shape: [1], values: [4])]
    let (norm, factor) = clipFactor(gradients: g, maxNorm: 1)
    #expect(Swift.abs(norm - 5) < 1e-6 && Swift.abs(factor - 1 / (5 + 1e-6)) < 1e-9)
    let source = Linear(2, 1, rng: RandomGenerator(seed: 1)), average = Linear(2, 1, rng: RandomGenerator(seed: 2))
    let before = average.weight.tensor.doubles(), target = source.weight.tensor.doubles()
    updateMovingAverage(target: average, source: source, beta: 0.75)
    let after = average.weight.tensor.doubles()
    for i in 0..<2 { #expect(Swift.abs(after[i] - (0.75 * before[i] + 0.25 * target[i])) < 1e-6) }
}

@Test func schedules() {
    let step = StepDecaySchedule(base: 1, factor: 0.3, start: 200, every: 5)
    #expect(step.learningRate(at: 199) == 1 && step.learningRate(at: 204) == 1)
    #expect(Swift.abs(step.learningRate(at: 205) - 0.3) < 1e-12 && Swift.abs(step.learningRate(at: 210) - 0.09) < 1e-12)
    let warm = LinearWarmupDecaySchedule(base: 1, final: 0, warmup: 10, total: 110)
    #expect(Swift.abs(warm.learningRate(at: 4) - 0.5) < 1e-12)
    #expect(Swift.abs(warm.learningRate(at: 60) - 0.5) < 1e-12)
    #expect(warm.learningRate(at: 200) == 0)
}
