// MultiheadAttention projects inputs that are one tensor with one GEMM and splits the heads with
// `permutedParts`. Its outputs and every gradient must match the three-projection path it replaced, written out
// below as it was, with the same dropout mask; and its gradients must match finite differences.
import Testing
@testable import Atelier
import TestSupport

/// Which inputs coincide.
enum AttentionInputs: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case selfAttention, sharedKeyValue, distinct
    var testDescription: String { rawValue }
}

private let (batch, queries, keys, width, headCount) = (2, 5, 7, 8, 2)

/// The module's forward as it was before projections were shared: one linear per part on slices of
/// `in_proj_weight` (or q/k/v_proj), each split into heads by a permute.
private func threeProjectionAttention(_ m: MultiheadAttention, _ query: Tensor, _ key: Tensor, _ value: Tensor, bias: Tensor?) -> Tensor {
    let e = m.embedDim
    func project(_ x: Tensor, _ part: Int) -> Tensor {
        if let w = m.inProjWeight, let b = m.inProjBias {
            return x.linear(weight: w.tensor.sliced(axis: 0, part * e, (part + 1) * e), bias: b.tensor.sliced(axis: 0, part * e, (part + 1) * e))
        }
        return [m.qProj!, m.kProj!, m.vProj!][part](x)
    }
    func splitHeads(_ x: Tensor) -> Tensor { x.reshaped([x.shape[0], x.shape[1], m.heads, e / m.heads]).permuted([0, 2, 1, 3]) }
    let o = Tensor.attention(q: splitHeads(project(query, 0)), k: splitHeads(project(key, 1)), v: splitHeads(project(value, 2)),
                             bias: bias, dropout: m.training ? m.dropout : 0, rng: m.rng)
    return m.outProj(o.permuted([0, 2, 1, 3]).reshaped([query.shape[0], query.shape[1], e]))
}

/// Leaves for one case: the distinct input tensors and the (query, key, value) built from them.
private struct ProjectionCase {
    let leaves: [Tensor]
    let query: Tensor, key: Tensor, value: Tensor
    let bias: Tensor?

    init(_ inputs: AttentionInputs, bias withBias: Bool, dtype: DType, seed: UInt64) {
        var rng = TestRNG(seed)
        func leaf(_ shape: [Int]) -> Tensor { Tensor(shape: shape, values: rng.values(shape.reduce(1, *)), dtype: dtype) }
        let x = leaf([batch, queries, width])
        switch inputs {
        case .selfAttention:
            leaves = [x]; (query, key, value) = (x, x, x)
        case .sharedKeyValue:
            let memory = leaf([batch, keys, width])
            leaves = [x, memory]; (query, key, value) = (x, memory, memory)
        case .distinct:
            let k = leaf([batch, keys, width]), v = leaf([batch, keys, width])
            leaves = [x, k, v]; (query, key, value) = (x, k, v)
        }
        let tk = key.shape[1]
        // Per sample, shared by the heads (a padding mask's shape), to exercise broadcasting.
        bias = withBias ? leaf([batch, 1, queries, tk]) : nil
    }
}

/// The output and the gradients of ⟨output, cotangent⟩ w.r.t. the input leaves and every parameter, with the
/// attention dropout drawn from the same position of the module's stream for both paths.
private func runProjection(_ m: MultiheadAttention, _ c: ProjectionCase, reference: Bool) -> [[Double]] {
    let (seed, offset) = (m.rng.seed, m.rng.offset)
    defer { m.rng.reposition(seed: seed, offset: offset) }
    let out = reference ? threeProjectionAttention(m, c.query, c.key, c.value, bias: c.bias) : m(c.query, c.key, c.value, bias: c.bias)
    var rng = TestRNG(99)
    let cotangent = Tensor(shape: out.shape, values: rng.values(out.count), dtype: out.dtype)
    let grads = gradients(of: (out * cotangent).sum(), wrt: c.leaves + m.parameters().map(\.tensor))
    evaluate([out] + grads)
    return [out.doubles()] + grads.map { $0.doubles() }
}

private func makeModule(packed: Bool, dtype: DType, training: Bool) -> MultiheadAttention {
    let m = MultiheadAttention(embedDim: width, heads: headCount, dropout: 0.3, packed: packed, dtype: dtype, rng: RandomGenerator(seed: 4))
    m.train(training)
    return m
}

@Test(arguments: AttentionInputs.allCases, [false, true])
func sharedProjectionMatchesThreeProjections(_ inputs: AttentionInputs, withBias: Bool) {
    for (dtype, tolerance) in [(DType.float64, 1e-12), (.float32, 2e-5)] {
        for packed in [true, false] {
            for training in [true, false] {
                let m = makeModule(packed: packed, dtype: dtype, training: training)
                let c = ProjectionCase(inputs, bias: withBias, dtype: dtype, seed: 7)
                let fast = runProjection(m, c, reference: false), slow = runProjection(m, c, reference: true)
                let names = ["output"] + c.leaves.indices.map { "input \($0)" } + m.namedParameters().map(\.0)
                for (name, (a, b)) in zip(names, zip(fast, slow)) {
                    let scale = max(1, b.map(abs).max() ?? 0)
                    #expect(maxAbsDifference(a, b) <= tolerance * scale,
                            "\(dtype) packed \(packed) training \(training): \(name) differs by \(maxAbsDifference(a, b))")
                }
            }
        }
    }
}

@Test func attentionDropoutIsActiveInTheComparison() {
    // Guards the test above: in training mode the mask changes the output, so equal outputs mean equal masks.
    let m = makeModule(packed: true, dtype: .float64, training: true)
    let c = ProjectionCase(.selfAttention, bias: false, dtype: .float64, seed: 7)
    let train = runProjection(m, c, reference: false)[0]
    m.eval()
    let eval = runProjection(m, c, reference: false)[0]
    #expect(maxAbsDifference(train, eval) > 1e-3)
}

/// Matmul nodes of a graph by output shape.
private func matmulShapes(_ targets: [Tensor]) -> [[Int]] {
    plan(targets).nodes.filter { $0.op is MatmulOp }.map { $0.outputs[0].shape }
}

@Test func coincidingInputsShareOneGEMMForwardAndBackward() {
    let e = width
    for inputs in [AttentionInputs.selfAttention, .sharedKeyValue] {
        let m = makeModule(packed: true, dtype: .float32, training: false)
        let c = ProjectionCase(inputs, bias: false, dtype: .float32, seed: 7)
        let out = m(c.query, c.key, c.value)
        let n = inputs == .selfAttention ? 3 * e : 2 * e, queryParts = inputs == .selfAttention ? 0 : 1
        // Forward: the shared projection, the query's own (cross-attention), the output projection.
        let forward = matmulShapes([out])
        #expect(forward.filter { $0.last == n }.count == 1, "\(inputs): forward matmuls \(forward)")
        #expect(forward.filter { $0.last == e }.count == 1 + queryParts, "\(inputs): forward matmuls \(forward)")
        // Backward: one dW GEMM [n, E] for the shared parts (and the query's [E, E]), one dX GEMM with K = n.
        let grads = gradients(of: out.sum(), wrt: [m.inProjWeight!.tensor, c.key])
        let all = matmulShapes(grads)
        #expect(all.filter { $0 == [n, e] }.count == 1, "\(inputs): matmuls \(all)")
        #expect(all.filter { $0 == [e, e] }.count == queryParts, "\(inputs): matmuls \(all)")
        let dx = plan([grads[1]]).nodes.filter { ($0.op as? MatmulOp)?.transB == false && $0.inputs[1].shape == [n, e] }
        #expect(dx.count == 1, "\(inputs): \(dx.count) dX GEMMs with K = \(n)")
    }
}

@Test(arguments: [AttentionInputs.selfAttention, .sharedKeyValue])
func sharedProjectionGradientMatchesFiniteDifferences(_ inputs: AttentionInputs) {
    let m = makeModule(packed: true, dtype: .float64, training: inputs == .selfAttention)
    let c = ProjectionCase(inputs, bias: true, dtype: .float64, seed: 11)
    let params = m.parameters()
    var rng = TestRNG(5)
    let probe = rng.values(batch * queries * width)
    let (seed, offset) = (m.rng.seed, m.rng.offset)
    func loss() -> Tensor {
        m.rng.reposition(seed: seed, offset: offset)   // the same dropout mask every time
        let out = m(c.query, c.key, c.value, bias: c.bias)
        return (out * Tensor(shape: out.shape, values: probe, dtype: .float64)).sum()
    }
    let l = loss()
    let targets = c.leaves + params.map(\.tensor)
    let analytic = gradients(of: l, wrt: targets)
    evaluate(analytic)
    // Perturb the leaves' and parameters' storage in place and rebuild the graph for each difference.
    let values = targets.map { $0.doubles() }
    func lossAt(_ vals: [[Double]]) -> Double {
        for (t, v) in zip(targets, vals) {
            let p = t.value!.pointer(as: Double.self)
            for i in v.indices { p[i] = v[i] }
        }
        return loss().item()
    }
    let check = GradCase(name: "shared projection \(inputs)", shapes: targets.map(\.shape), f: { $0[0] })
    let failure = compareWithCentralDifferences(check, values: values, analytic: analytic.map { $0.doubles() }, f: lossAt,
                                                tolerance: 1, label: check.name)
    _ = lossAt(values)
    #expect(failure == nil, "\(failure ?? "")")
}

@Test func permutedPartsMatchesPermuteAndSelect() {
    var rng = TestRNG(3)
    let x = Tensor(shape: [2, 3, 3, 2, 4], values: rng.values(144), dtype: .float64)
    let order = [2, 0, 3, 1, 4]
    let parts = x.permutedParts(order), p = x.permuted(order)
    #expect(parts.count == 3)
    for i in 0..<3 {
        #expect(parts[i].shape == [2, 2, 3, 4])
        #expect(parts[i].doubles() == p.select(axis: 0, i).doubles())
    }
    // Its adjoint writes every part back where it came from.
    let back = Tensor.make(PermutedPartsOp(order: order, split: false), parts, shape: x.shape, dtype: .float64)
    #expect(back.doubles() == x.doubles())
}
