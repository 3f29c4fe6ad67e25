// The engine's fused float32 attention against its composite form: forward, every first-order gradient
// (with and without the shared [H, Tq, Tk] bias, odd sizes), and second order, where the fused backward node
// differentiates its composite form. With dropout on the probabilities both draw the same mask from the same
// generator state, and the mask is the one `softmax().dropout(p)` would draw.
import Testing
@testable import Atelier
import TestSupport

func attentionInputs(b: Int, h: Int, tq: Int, tk: Int, d: Int, seed: UInt64) -> [Tensor] {
    var rng = TestRNG(seed)
    return [[b, h, tq, d], [b, h, tk, d], [b, h, tk, d], [h, tq, tk]].map { Tensor(shape: $0, values: rng.values($0.reduce(1, *))) }
}


@Test(arguments: [(1, 1, 1, 1, 4, false, 0.0), (2, 3, 7, 65, 16, true, 0), (3, 2, 65, 7, 72, true, 0), (1, 4, 33, 33, 96, false, 0),
                  (2, 3, 7, 65, 16, true, 0.3), (3, 2, 65, 7, 72, false, 0.1)])
func fusedAttentionMatchesComposite(_ b: Int, _ h: Int, _ tq: Int, _ tk: Int, _ d: Int, _ withBias: Bool, _ dropout: Double) {
    let x = attentionInputs(b: b, h: h, tq: tq, tk: tk, d: d, seed: UInt64(tq * 31 + tk))
    let wrt = withBias ? x : Array(x.prefix(3))
    func run(fused: Bool) -> [[Float]] { ExecutionContext.current.with(fusedAttention: fused).run {
        let o = Tensor.attention(q: x[0], k: x[1], v: x[2], bias: withBias ? x[3] : nil, scale: 0.37,
                                 dropout: dropout, rng: RandomGenerator(seed: 12))
        var rng = TestRNG(99)
        let cot = Tensor(shape: o.shape, values: rng.values(o.count))
        let grads = gradients(of: (o * cot).sum(), wrt: wrt)
        evaluate([o] + grads)
        return ([o] + grads).map { $0.floats() }
    } }
    let fused = run(fused: true), composite = run(fused: false)
    for (i, (f, c)) in zip(fused, composite).enumerated() {
        #expect(maxAbsDifference(f, c) < 2e-5, "output \(i): max difference \(maxAbsDifference(f, c))")
    }
}

@Test func fusedAttentionSecondOrderMatchesComposite() {
    let x = attentionInputs(b: 2, h: 2, tq: 5, tk: 6, d: 8, seed: 4)
    func secondOrder(fused: Bool) -> [Float] { ExecutionContext.current.with(fusedAttention: fused).run {
        let o = Tensor.attention(q: x[0], k: x[1], v: x[2], bias: x[3])
        let g = gradients(of: o.square().sum(), wrt: [x[0]])[0]
        let gg = gradients(of: g.square().sum(), wrt: [x[1], x[3]])
        evaluate(gg)
        return gg.flatMap { $0.floats() }
    } }
    let a = secondOrder(fused: true), b = secondOrder(fused: false)
    #expect(maxAbsDifference(a, b) < 1e-4 * (1 + Double(b.map(Swift.abs).max() ?? 0)))
}

/// The attention-weight dropout of `Tensor.attention` is `softmax().dropout(p)` with the same generator.
@Test func attentionDropoutIsSoftmaxThenDropout() {
    let x = attentionInputs(b: 2, h: 3, tq: 5, tk: 9, d: 8, seed: 8)
    let rng = RandomGenerator(seed: 3), plainRNG = RandomGenerator(seed: 3)
    let fused = Tensor.attention(q: x[0], k: x[1], v: x[2], scale: 0.5, dropout: 0.4, rng: rng)
    let plain = x[0].matmul(x[1], transB: true, alpha: 0.5).softmax().dropout(0.4, rng: plainRNG).matmul(x[2])
    let undropped = Tensor.attention(q: x[0], k: x[1], v: x[2], scale: 0.5)
    evaluate([fused, plain, undropped])
    #expect(maxAbsDifference(fused.floats(), plain.floats()) < 1e-5)
    #expect(maxAbsDifference(fused.floats(), undropped.floats()) > 0.05, "dropout changed nothing")
    #expect(rng.offset == plainRNG.offset)
}
