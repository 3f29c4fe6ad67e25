// Small models trained with Adam on generated data: the loss must fall well below its start.
import Testing
@testable import Atelier

/// A 2-layer MLP regressing y = sin(3x₀) + x₁².
final class TinyMLP: Module, @unchecked Sendable {
    let fc1: Linear, fc2: Linear
    init(rng: RandomGenerator) {
        fc1 = Linear(2, 32, rng: rng)
        fc2 = Linear(32, 1, rng: rng)
        super.init()
        register("fc1", fc1)
        register("fc2", fc2)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).tanh()) }
}

func regressionBatch(_ n: Int, seed: UInt64) -> (Tensor, Tensor) {
    var rng = TestRNG(seed)
    let xs = rng.values(2 * n)
    let ys: [Double] = (0..<n).map { i -> Double in
        let a: Double = Foundation.sin(3.0 * xs[2 * i])
        let b: Double = xs[2 * i + 1]
        return a + b * b
    }
    return (Tensor(shape: [n, 2], values: xs), Tensor(shape: [n, 1], values: ys))
}

import Foundation
import TestSupport

@Test func mlpLossFalls() {
    let gen = RandomGenerator(seed: 3)
    let model = TinyMLP(rng: gen)
    let opt = Adam(parameters: model.namedParameters(), learningRate: 1e-2)
    let (x, y) = regressionBatch(128, seed: 5)
    var first = 0.0, last = 0.0
    for step in 0..<300 {
        let loss = model(x).mseLoss(y)
        let grads = gradients(of: loss, wrt: model.parameters().map(\.tensor))
        evaluate([loss] + grads)
        if step == 0 { first = loss.item() }
        last = loss.item()
        opt.step(gradients: grads)
    }
    #expect(last < 0.05 * first, "MSE went from \(first) to \(last)")
}
