// Movement ops: reshape is a view (no kernel); permute, expand, slice and its adjoint are strided copies.

struct ReshapeOp: Op {
    var name: String { "reshape" }
    var aliasedInput: Int? { 0 }
    func execute(_ c: KernelContext) {}
    func gradient(_ c: GradientContext) -> [Tensor?] { [c.grad.reshaped(c.inputs[0].shape)] }
}

struct PermuteOp: Op {
    let order: [Int]
    var name: String { "permute" }
    func execute(_ c: KernelContext) {
        let inShape = c.inputShapes[0]
        let inStrides = contiguousStrides(inShape)
        let outShape = c.outputShapes[0]
        let src = order.map { inStrides[$0] }
        dispatch(c.dtype, {
            stridedCopy(c.outputs[0].pointer(as: Float.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Float.self), srcStrides: src, shape: outShape)
        }, {
            stridedCopy(c.outputs[0].pointer(as: Double.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Double.self), srcStrides: src, shape: outShape)
        })
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return [c.grad.permuted(inverse)]
    }
}

struct ExpandOp: Op {
    var name: String { "expand" }
    func execute(_ c: KernelContext) {
        let outShape = c.outputShapes[0]
        let src = broadcastStrides(c.inputShapes[0], to: outShape)
        dispatch(c.dtype, {
            stridedCopy(c.outputs[0].pointer(as: Float.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Float.self), srcStrides: src, shape: outShape)
        }, {
            stridedCopy(c.outputs[0].pointer(as: Double.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Double.self), srcStrides: src, shape: outShape)
        })
    }
    func gradient(_ c: GradientContext) -> [Tensor?] { [c.grad.sum(toShape: c.inputs[0].shape)] }
}

/// Copies the box `[start, start+outShape)` (with `step`) out of the input.
struct SliceOp: Op {
    let start: [Int], step: [Int]
    var name: String { "slice" }
    func execute(_ c: KernelContext) {
        let inStrides = contiguousStrides(c.inputShapes[0])
        let offset = zip(start, inStrides).map(*).reduce(0, +)
        let src = zip(inStrides, step).map(*)
        let outShape = c.outputShapes[0]
        dispatch(c.dtype, {
            stridedCopy(c.outputs[0].pointer(as: Float.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Float.self) + offset, srcStrides: src, shape: outShape)
        }, {
            stridedCopy(c.outputs[0].pointer(as: Double.self), dstStrides: contiguousStrides(outShape),
                        c.inputs[0].pointer(as: Double.self) + offset, srcStrides: src, shape: outShape)
        })
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(PlaceOp(start: start, step: step), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// Zeros of the output shape with the input written at the box `start` (with `step`): slice's adjoint,
/// and zero padding.
struct PlaceOp: Op {
    let start: [Int], step: [Int]
    var name: String { "place" }
    func execute(_ c: KernelContext) {
        let outShape = c.outputShapes[0]
        let outStrides = contiguousStrides(outShape)
        let offset = zip(start, outStrides).map(*).reduce(0, +)
        let dst = zip(outStrides, step).map(*)
        let inShape = c.inputShapes[0]
        let n = outShape.reduce(1, *)
        dispatch(c.dtype, {
            let y = c.outputs[0].pointer(as: Float.self)
            fill(y, n, 0)
            stridedCopy(y + offset, dstStrides: dst, c.inputs[0].pointer(as: Float.self), srcStrides: contiguousStrides(inShape), shape: inShape)
        }, {
            let y = c.outputs[0].pointer(as: Double.self)
            fill(y, n, 0)
            stridedCopy(y + offset, dstStrides: dst, c.inputs[0].pointer(as: Double.self), srcStrides: contiguousStrides(inShape), shape: inShape)
        })
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(SliceOp(start: start, step: step), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

extension Tensor {
    /// The same elements with a new shape; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            shapeCheck(known > 0 && count % known == 0, "reshape", "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        shapeCheck(s.reduce(1, *) == count && s.allSatisfy { $0 >= 0 }, "reshape", "cannot reshape \(shape) to \(newShape)")
        if s == shape { return self }
        return Tensor.make(ReshapeOp(), [self], shape: s, dtype: dtype)
    }

    /// Reorders dimensions: output dim i is input dim `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        shapeCheck(order.sorted() == Array(0..<rank), "permute", "order \(order) is not a permutation for shape \(shape)")
        if order == Array(0..<rank) { return self }
        return Tensor.make(PermuteOp(order: order), [self], shape: order.map { shape[$0] }, dtype: dtype)
    }

    /// Swaps two dimensions.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        let a = normalizeAxis(a, rank: rank, op: "transpose"), b = normalizeAxis(b, rank: rank, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return permuted(order)
    }

    /// Broadcasts to `target` (NumPy rules), materialising the copies.
    public func expanded(to target: [Int]) -> Tensor {
        shapeCheck(broadcastShape(shape, target) == target, "expand", "cannot broadcast \(shape) to \(target)")
        if shape == target { return self }
        return Tensor.make(ExpandOp(), [self], shape: target, dtype: dtype)
    }

    /// Inserts a size-1 dimension at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        shapeCheck(a >= 0 && a <= rank, "unsqueeze", "axis \(axis) out of range for \(shape)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Elements `start..<end` (with `step`) along `axis`.
    public func sliced(axis: Int, _ start: Int, _ end: Int, step: Int = 1) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "slice")
        shapeCheck(0 <= start && start <= end && end <= shape[a] && step >= 1, "slice",
                   "range \(start)..<\(end) step \(step) invalid for axis \(a) of \(shape)")
        var starts = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank)
        starts[a] = start; steps[a] = step
        var out = shape
        out[a] = (end - start + step - 1) / step
        if out == shape { return self }
        return Tensor.make(SliceOp(start: starts, step: steps), [self], shape: out, dtype: dtype)
    }

    /// Element `i` along `axis`, with that axis removed.
    public func select(axis: Int, _ i: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "select")
        var s = shape
        s.remove(at: a)
        return sliced(axis: a, i, i + 1).reshaped(s)
    }

    /// Zero padding: `padding[d] = (before, after)` for each dimension (missing leading entries mean none).
    public func padded(_ padding: [(Int, Int)]) -> Tensor {
        shapeCheck(padding.count <= rank && padding.allSatisfy { $0.0 >= 0 && $0.1 >= 0 }, "pad",
                   "padding \(padding) invalid for \(shape)")
        let full = [(Int, Int)](repeating: (0, 0), count: rank - padding.count) + padding
        let out = zip(shape, full).map { $0 + $1.0 + $1.1 }
        if out == shape { return self }
        return Tensor.make(PlaceOp(start: full.map(\.0), step: [Int](repeating: 1, count: rank)), [self], shape: out, dtype: dtype)
    }

    /// Joins tensors along `axis`.
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        shapeCheck(!parts.isEmpty, "concat", "no tensors")
        let first = parts[0]
        let a = normalizeAxis(axis, rank: first.rank, op: "concat")
        for p in parts {
            var s1 = p.shape, s0 = first.shape
            shapeCheck(p.rank == first.rank && p.dtype == first.dtype, "concat", "shapes \(parts.map(\.shape)) differ in rank or dtype")
            s1[a] = 0; s0[a] = 0
            shapeCheck(s1 == s0, "concat", "shapes \(parts.map(\.shape)) differ outside axis \(a)")
        }
        if parts.count == 1 { return first }
        var out = first.shape
        out[a] = parts.map { $0.shape[a] }.reduce(0, +)
        return Tensor.make(ConcatOp(axis: a), parts, shape: out, dtype: first.dtype)
    }

    /// Stacks equal-shaped tensors along a new `axis`.
    public static func stack(_ parts: [Tensor], axis: Int = 0) -> Tensor {
        concat(parts.map { $0.unsqueezed(axis) }, axis: axis)
    }
}

struct ConcatOp: Op {
    let axis: Int
    var name: String { "concat" }
    func execute(_ c: KernelContext) {
        let outShape = c.outputShapes[0]
        let outStrides = contiguousStrides(outShape)
        var offset = 0
        for (i, inShape) in c.inputShapes.enumerated() {
            let dstOff = offset * outStrides[axis]
            dispatch(c.dtype, {
                stridedCopy(c.outputs[0].pointer(as: Float.self) + dstOff, dstStrides: outStrides,
                            c.inputs[i].pointer(as: Float.self), srcStrides: contiguousStrides(inShape), shape: inShape)
            }, {
                stridedCopy(c.outputs[0].pointer(as: Double.self) + dstOff, dstStrides: outStrides,
                            c.inputs[i].pointer(as: Double.self), srcStrides: contiguousStrides(inShape), shape: inShape)
            })
            offset += inShape[axis]
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        var offset = 0
        return c.inputs.map { input in
            defer { offset += input.shape[axis] }
            return c.grad.sliced(axis: axis, offset, offset + input.shape[axis])
        }
    }
}
