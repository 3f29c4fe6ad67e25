// Every fused op against its composite form: the node a public call (or a first-order gradient) builds is the
// fused op, not the composite, and its kernel and composite agree on the same inputs. The gradients the
// composites give above first order are checked against finite differences in GradientCheckTests.
import Testing
@testable import Atelier
import TestSupport

/// One fused node: how to build it from random inputs, and the op name expected on it.
struct FusedCase: CustomTestStringConvertible, Sendable {
    let op: String
    let shapes: [[Int]]
    var dtype: DType = .float64
    var low: Double = -1
    var high: Double = 1
    /// Values on a coarse grid, so window filters meet ties.
    var ties = false
    var tolerance: Double = 1e-12
    let build: @Sendable ([Tensor]) -> Tensor
    var testDescription: String { op }
}

/// The first-order gradient of ⟨f(x), c⟩ w.r.t. `wrt` with a fixed cotangent c.
private func firstOrder(_ f: ([Tensor]) -> Tensor, _ x: [Tensor], wrt: [Int] = [0]) -> Tensor {
    let y = f(x)
    var rng = TestRNG(7)
    let c = Tensor(shape: y.shape, values: rng.values(y.count), dtype: y.dtype)
    return gradients(of: (y * c).sum(), wrt: wrt.map { x[$0] })[0]
}

let fusedCases: [FusedCase] = [
    FusedCase(op: "maxFilter3x3", shapes: [[2, 5, 7]], ties: true) { $0[0].maxFilter3x3() },
    FusedCase(op: "minFilter3x3", shapes: [[3, 4, 1]], ties: true) { $0[0].minFilter3x3() },
    FusedCase(op: "maxFilter3x3Backward", shapes: [[2, 5, 7]], ties: true) { firstOrder({ $0[0].maxFilter3x3() }, $0) },
    FusedCase(op: "minFilter3x3Backward", shapes: [[1, 6, 6]], ties: true) { firstOrder({ $0[0].minFilter3x3() }, $0) },
    FusedCase(op: "gridSample", shapes: [[2, 3, 4, 5], [2, 3, 6, 2]], low: -1.3, high: 1.3) { $0[0].gridSample($0[1]) },
    FusedCase(op: "gridSample", shapes: [[1, 2, 5, 3], [3, 2, 2, 2]], low: -1.3, high: 1.3) { $0[0].gridSample($0[1], alignCorners: true) },
    FusedCase(op: "gridSampleBackward", shapes: [[2, 3, 4, 5], [2, 3, 6, 2]], low: -1.3, high: 1.3) {
        firstOrder({ $0[0].gridSample($0[1]) }, $0, wrt: [0, 1])
    },
    FusedCase(op: "gridSampleBackward", shapes: [[1, 2, 5, 3], [3, 2, 2, 2]], low: -1.3, high: 1.3) {
        firstOrder({ $0[0].gridSample($0[1], alignCorners: true) }, $0, wrt: [0, 1])
    },
    FusedCase(op: "geluBackward", shapes: [[3, 7]], dtype: .float32, low: -4, high: 4, tolerance: 1e-6) { firstOrder({ $0[0].gelu() }, $0) },
    FusedCase(op: "geluBackward", shapes: [[3, 7]], low: -4, high: 4) { firstOrder({ $0[0].gelu() }, $0) },
    FusedCase(op: "reluBackward", shapes: [[3, 7]], dtype: .float32, tolerance: 0) { firstOrder({ $0[0].relu() }, $0) },
    FusedCase(op: "softmaxBackward", shapes: [[3, 9]]) { firstOrder({ $0[0].softmax() }, $0) },
    FusedCase(op: "softmaxBackwardGrad", shapes: [[3, 9], [3, 9]]) { firstOrder({ softmaxBackward(y: $0[0], g: $0[1]) }, $0) },
    FusedCase(op: "layerNormBackward", shapes: [[3, 9]]) { firstOrder({ $0[0].layerNorm() }, $0) },
    FusedCase(op: "layerNormBackwardGrad", shapes: [[3, 9], [3, 9], [3, 1]]) {
        firstOrder({ layerNormBackward(g: $0[0], xhat: $0[1], rstd: $0[2]) }, $0, wrt: [1])
    },
    FusedCase(op: "batchNorm", shapes: [[3, 5, 7, 9], [5], [5]]) { $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 },
    FusedCase(op: "batchNorm", shapes: [[3, 5, 7, 9], [5], [5]], dtype: .float32, tolerance: 2e-6) { $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 },
    FusedCase(op: "batchNormBackward", shapes: [[3, 5, 7, 9], [5], [5]]) {
        firstOrder({ $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 }, $0)
    },
    FusedCase(op: "batchNormBackward", shapes: [[3, 5, 7, 9], [5], [5]], dtype: .float32, tolerance: 5e-6) {
        firstOrder({ $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 }, $0)
    },
    FusedCase(op: "batchNormInference", shapes: [[3, 5, 7, 9], [5], [5], [5], [5]], low: 0.5, high: 1.5) {
        $0[0].batchNormInference(mean: $0[1], variance: $0[2], weight: $0[3], bias: $0[4])
    },
    FusedCase(op: "batchNormInference", shapes: [[3, 5, 7, 9], [5], [5], [5], [5]], dtype: .float32, low: 0.5, high: 1.5, tolerance: 0) {
        $0[0].batchNormInference(mean: $0[1], variance: $0[2], weight: $0[3], bias: $0[4])
    },
    FusedCase(op: "attention", shapes: [[2, 3, 5, 8], [2, 3, 6, 8], [2, 3, 6, 8], [3, 5, 6]], dtype: .float32, tolerance: 2e-6) {
        Tensor.attention(q: $0[0], k: $0[1], v: $0[2], bias: $0[3])
    },
    FusedCase(op: "attentionBackward", shapes: [[2, 3, 5, 8], [2, 3, 6, 8], [2, 3, 6, 8], [3, 5, 6]], dtype: .float32, tolerance: 1e-5) {
        firstOrder({ Tensor.attention(q: $0[0], k: $0[1], v: $0[2], bias: $0[3]) }, $0, wrt: [1])
    },
    FusedCase(op: "attentionBackward", shapes: [[4, 7, 8], [4, 3, 8], [4, 3, 8]], dtype: .float32, tolerance: 1e-5) {
        firstOrder({ Tensor.attention(q: $0[0], k: $0[1], v: $0[2]) }, $0)
    },
]

@Test(arguments: fusedCases)
func fusedNodeMatchesItsComposite(_ c: FusedCase) throws {
    var rng = TestRNG(UInt64(c.shapes.flatMap { $0 }.reduce(0, +)))
    let inputs = c.shapes.map { shape -> Tensor in
        var values = rng.values(shape.reduce(1, *), low: c.low, high: c.high)
        if c.ties { values = values.map { ($0 * 2).rounded(.down) / 2 } }
        return Tensor(shape: shape, values: values, dtype: c.dtype)
    }
    let y = c.build(inputs)
    #expect(y.node.op?.name == c.op, "built \(y.node.op?.name ?? "a leaf"), expected the fused \(c.op)")
    let op = try #require(y.node.op as? any CompositeOp, "\(c.op) has no composite form")
    let fused = (0..<y.node.outputs.count).map { Tensor(node: y.node, index: $0) }
    let composite = op.composite(y.node.inputs)
    #expect(composite.map(\.shape) == fused.map(\.shape))
    evaluate(fused + composite)
    for (k, (f, e)) in zip(fused, composite).enumerated() {
        let worst = maxAbsDifference(f.doubles(), e.doubles())
        #expect(worst <= c.tolerance, "\(c.op) output \(k): kernel and composite differ by \(worst)")
    }
}

/// A tensor passed twice as a primal gets each use's share, not the sum twice.
@Test func vectorJacobianProductSplitsARepeatedPrimal() {
    let x = Tensor(shape: [3], values: [1, 2, 3], dtype: .float64), c = Tensor(shape: [3], values: [1, 10, 100], dtype: .float64)
    let grads = vectorJacobianProduct({ [$0[0] * $0[1].square()] }, at: [x, x], cotangents: [c])
    let values = grads.map { $0!.doubles() }
    #expect(values[0] == [1, 40, 900])           // c·x²
    #expect(values[1] == [2, 80, 1800])          // c·x·2x
}

/// Gradients not asked for are not built, and a primal the function ignores gets nil.
@Test func vectorJacobianProductSkipsUnneededPrimals() {
    let x = Tensor(shape: [2], values: [1, 2], dtype: .float64), y = Tensor(shape: [2], values: [3, 4], dtype: .float64)
    let z = Tensor(shape: [2], values: [5, 6], dtype: .float64)
    let grads = vectorJacobianProduct({ [$0[0] * $0[1]] }, at: [x, y, z], cotangents: [Tensor.ones(like: x)],
                                      needsGradient: [false, true, true])
    #expect(grads[0] == nil && grads[2] == nil)
    #expect(grads[1]?.doubles() == [1, 2])
}
