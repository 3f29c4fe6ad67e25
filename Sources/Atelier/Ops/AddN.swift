// The sum of several same-shaped tensors in one op. Autodiff accumulates a tensor's cotangent from every
// reader (a residual stream has three or four); chained binary adds wrote a full-size intermediate per reader.
// Summation order is the chain's, ((a + b) + c) + …, so results are unchanged bit for bit.

struct AddNOp: Op {
    var name: String { "addN" }
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        let inputs = c.inputs.map { UnsafePointer($0.pointer(as: T.self)) }
        let y = c.outputs[0].pointer(as: T.self)
        // Run in place, the output is input 0's buffer; a later term that is the same buffer (a tensor summed
        // with itself, or a view of it) must read the block's original values, saved before the first write.
        let rereads = (1..<inputs.count).filter { inputs[$0] == UnsafePointer(y) }
        // Blocks small enough to stay in L1 while every input is added into them.
        let block = 2048
        parallelFor((n + block - 1) / block, grain: 8) { r in
            var saved = [T](repeating: 0, count: rereads.isEmpty ? 0 : block)
            saved.withUnsafeMutableBufferPointer { saved in
                for b in r {
                    let o = b * block, len = Swift.min(block, n - o)
                    if !rereads.isEmpty { saved.baseAddress!.update(from: y + o, count: len) }
                    func term(_ k: Int) -> UnsafePointer<T> { rereads.contains(k) ? UnsafePointer(saved.baseAddress!) : inputs[k] + o }
                    zipElements(y + o, inputs[0] + o, term(1), len, +)
                    for k in 2..<inputs.count { zipElements(y + o, UnsafePointer(y + o), term(k), len, +) }
                }
            }
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        c.inputs.map { _ in c.grad }
    }
}

extension Tensor {
    /// Σ `terms`, all of one shape and dtype (a single term is returned as is; disjoint placed boxes are
    /// assembled without adding).
    public static func sum(_ terms: [Tensor]) -> Tensor {
        precondition(!terms.isEmpty, "[addN] no terms")
        if terms.count == 1 { return terms[0] }
        if let pieces = assembled(terms) { return pieces }
        let first = terms[0]
        shapeCheck(terms.allSatisfy { $0.shape == first.shape && $0.dtype == first.dtype }, "addN",
                   "terms differ: \(terms.map(\.shape))")
        return Tensor.make(AddNOp(), terms, shape: first.shape, dtype: first.dtype)
    }
}
