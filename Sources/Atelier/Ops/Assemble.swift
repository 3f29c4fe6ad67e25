// Disjoint pieces written into one zero tensor. Slicing a tensor into parts (q, k and v out of one projection)
// makes each part's gradient a zero tensor with the part placed in it; summing those wrote and added full-size
// zero tensors per part. Autodiff assembles them instead, in one pass.

/// Inputs: pieces; output: zeros of `shape` with piece i at the box starting at `starts[i]` (unit steps).
struct AssembleOp: Op {
    let starts: [[Int]]
    var name: String { "assemble" }

    func execute(_ c: KernelContext) {
        let outShape = c.outputShapes[0]
        let outStrides = contiguousStrides(outShape)
        let total = outShape.reduce(1, *)
        let covered = c.inputShapes.map { $0.reduce(1, *) }.reduce(0, +)
        dispatch(c.dtype, { run(Float.self, c, outStrides, fillZeros: covered < total, total) },
                          { run(Double.self, c, outStrides, fillZeros: covered < total, total) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext, _ outStrides: [Int], fillZeros: Bool, _ total: Int) {
        let y = c.outputs[0].pointer(as: T.self)
        if fillZeros { fill(y, total, 0) }
        for (i, start) in starts.enumerated() {
            let offset = zip(start, outStrides).map(*).reduce(0, +)
            stridedCopy(y + offset, dstStrides: outStrides, c.inputs[i].pointer(as: T.self),
                        srcStrides: contiguousStrides(c.inputShapes[i]), shape: c.inputShapes[i])
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        zip(starts, c.inputs).map { start, piece in
            Tensor.make(SliceOp(start: start, step: start.map { _ in 1 }), [c.grad], shape: piece.shape, dtype: piece.dtype)
        }
    }
}

extension Tensor {
    /// If every term is a zero tensor with one box placed in it (slice's adjoint, unit steps), all of one shape,
    /// and the boxes do not overlap, their sum as one `AssembleOp`; otherwise nil.
    static func assembled(_ terms: [Tensor]) -> Tensor? {
        guard terms.count > 1 else { return nil }
        var boxes: [(start: [Int], shape: [Int])] = []
        for t in terms {
            guard let place = t.node.op as? PlaceOp, t.index == 0, place.step.allSatisfy({ $0 == 1 }),
                  t.shape == terms[0].shape, t.dtype == terms[0].dtype else { return nil }
            boxes.append((place.start, t.node.inputs[0].shape))
        }
        for i in 0..<boxes.count {
            for j in (i + 1)..<boxes.count {
                let apart = (0..<boxes[i].start.count).contains { d in
                    boxes[i].start[d] + boxes[i].shape[d] <= boxes[j].start[d] || boxes[j].start[d] + boxes[j].shape[d] <= boxes[i].start[d]
                }
                if !apart { return nil }
            }
        }
        return Tensor.make(AssembleOp(starts: boxes.map(\.start)), terms.map { $0.node.inputs[0] },
                           shape: terms[0].shape, dtype: terms[0].dtype)
    }
}
