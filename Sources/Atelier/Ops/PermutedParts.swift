// A permute split into the slices of its leading axis, and the adjoint, in one strided copy each. A packed
// projection [B, T, 3, H, Dh] becomes q, k and v [B, H, T, Dh] this way. Slices copy in this engine (values are
// whole buffers, never strided views), so a permute to [3, B, H, T, Dh] and a slice per part wrote every element
// twice, and their gradient (an assemble, then the inverse permute) twice again.

/// `split`: output i is `input.permuted(order)`'s slice i along its leading axis, without that axis.
/// Otherwise the adjoint: inputs are the parts, the output is `Tensor.stack(parts).permuted(inverse of order)`.
struct PermutedPartsOp: Op {
    let order: [Int]
    let split: Bool
    var name: String { split ? "permutedParts" : "stackedPermuted" }
    func execute(_ c: KernelContext) {
        // The packed tensor is the input when splitting, the output when stacking.
        let (packed, packedShape) = split ? (c.inputs[0], c.inputShapes[0]) : (c.outputs[0], c.outputShapes[0])
        let (parts, partShape) = split ? (c.outputs, c.outputShapes[0]) : (c.inputs, c.inputShapes[0])
        copyParts(c.dtype, packed: packed, packedShape: packedShape, parts: parts, partShape: partShape, order: order, intoParts: split)
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        if !split { return c.grad.permutedParts(order) }
        // A part nobody differentiates through still owns its box of the input's gradient: zeros.
        let parts = zip(c.cotangents, c.outputs).map { $0 ?? Tensor.zeros(like: $1) }
        return [Tensor.make(PermutedPartsOp(order: order, split: false), parts, shape: c.inputs[0].shape, dtype: c.inputs[0].dtype)]
    }
}

/// Copies each part to or from its place in the packed tensor: part i is the packed tensor's elements at index i
/// of dimension `order[0]`, walked in the order `order.dropFirst()`.
private func copyParts(_ dtype: DType, packed: Buffer, packedShape: [Int], parts: [Buffer], partShape: [Int],
                       order: [Int], intoParts: Bool) {
    let packedStrides = contiguousStrides(packedShape), partStrides = contiguousStrides(partShape)
    let walk = order.dropFirst().map { packedStrides[$0] }
    for (i, part) in parts.enumerated() {
        let offset = i * packedStrides[order[0]]
        func copy<T>(_: T.Type) {
            let p = packed.pointer(as: T.self) + offset, q = part.pointer(as: T.self)
            if intoParts {
                stridedCopy(q, dstStrides: partStrides, p, srcStrides: walk, shape: partShape)
            } else {
                stridedCopy(p, dstStrides: walk, q, srcStrides: partStrides, shape: partShape)
            }
        }
        dispatch(dtype, { copy(Float.self) }, { copy(Double.self) })
    }
}

extension Tensor {
    /// The slices of `permuted(order)` along its leading axis (`permuted(order).select(axis: 0, i)` for each i),
    /// copied straight out of this tensor in one pass; the gradient is written back in one pass too.
    public func permutedParts(_ order: [Int]) -> [Tensor] {
        shapeCheck(order.sorted() == Array(0..<rank) && rank >= 1 && shape[order[0]] > 0, "permutedParts",
                   "order \(order) is not a permutation for shape \(shape) with a non-empty leading axis")
        let partShape = order.dropFirst().map { shape[$0] }
        let spec = TensorSpec(shape: partShape, dtype: dtype)
        return Tensor.make(PermutedPartsOp(order: order, split: true), [self], outputs: Array(repeating: spec, count: shape[order[0]]))
    }
}
