// Gather along one axis by a fixed index list, and its adjoint, scatter-add. Each is the other's gradient.

/// out[.., i, ..] = x[.., indices[i], ..]
struct IndexSelectOp: Op {
    let axis: Int
    let indices: [Int]
    var name: String { "indexSelect" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        let outer = s[..<axis].reduce(1, *), inner = s[(axis + 1)...].reduce(1, *), size = s[axis]
        let n = indices.count
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), outer, size, inner, n) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), outer, size, inner, n) })
    }
    private func run<T>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ outer: Int, _ size: Int, _ inner: Int, _ n: Int) {
        indices.withUnsafeBufferPointer { idx in
            let idx = UncheckedSendable(idx)
            parallelFor(outer * n, grain: max(1, 8192 / inner)) { r in
                if inner == 1 {
                    // Element gathers (relative-position bias tables): a plain loop, not a copy call per element.
                    for t in r { y[t] = x[(t / n) * size + idx.value[t % n]] }
                    return
                }
                for t in r {
                    let o = t / n, i = t % n
                    (y + t * inner).update(from: x + (o * size + idx.value[i]) * inner, count: inner)
                }
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(IndexAddOp(axis: axis, indices: indices), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// out = zeros; out[.., indices[i], ..] += g[.., i, ..]. Partitioned by output row, so no two tasks write
/// one element and the summation order is fixed.
struct IndexAddOp: Op {
    let axis: Int
    let indices: [Int]
    var name: String { "indexAdd" }
    func execute(_ c: KernelContext) {
        let s = c.outputShapes[0]
        let outer = s[..<axis].reduce(1, *), inner = s[(axis + 1)...].reduce(1, *), size = s[axis]
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), outer, size, inner) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), outer, size, inner) })
    }
    private func run<T: KernelScalar>(_ g: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ outer: Int, _ size: Int, _ inner: Int) {
        // Sources of each destination row in ascending order, as one flat counting-sort list:
        // sources[start[d] ..< start[d + 1]] (an array per row cost more than the sums for 4M-entry lists).
        let n = indices.count
        var start = [Int](repeating: 0, count: size + 1)
        for d in indices { start[d + 1] += 1 }
        for d in 0..<size { start[d + 1] += start[d] }
        var sources = [Int](repeating: 0, count: n)
        var fill = start
        for (i, d) in indices.enumerated() { sources[fill[d]] = i; fill[d] += 1 }
        start.withUnsafeBufferPointer { startBuffer in
            sources.withUnsafeBufferPointer { sourceBuffer in
                let (starts, src) = (UncheckedSendable(startBuffer), UncheckedSendable(sourceBuffer))
                parallelFor(outer * size, grain: max(1, 8192 / inner)) { r in
                    for t in r {
                        let o = t / size, d = t % size
                        let out = y + t * inner
                        let rows = starts.value[d]..<starts.value[d + 1]
                        if inner == 1 {
                            let base = g + o * n
                            var acc: T = 0
                            for k in rows { acc += base[src.value[k]] }
                            out[0] = acc
                            continue
                        }
                        out.update(repeating: 0, count: inner)
                        for k in rows {
                            let row = g + (o * n + src.value[k]) * inner
                            for j in 0..<inner { out[j] += row[j] }
                        }
                    }
                }
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(IndexSelectOp(axis: axis, indices: indices), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

extension Tensor {
    /// Picks entries `indices` along `axis` (repeats allowed): PyTorch's `index_select`.
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "indexSelect")
        shapeCheck(indices.allSatisfy { $0 >= 0 && $0 < shape[a] }, "indexSelect",
                   "index out of range for axis \(a) of \(shape)")
        var out = shape
        out[a] = indices.count
        return Tensor.make(IndexSelectOp(axis: a, indices: indices), [self], shape: out, dtype: dtype)
    }

    /// Adds entry i along `axis` into position `indices[i]` of a zero tensor with `size` entries there.
    public func indexAdd(axis: Int, _ indices: [Int], size: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "indexAdd")
        shapeCheck(indices.count == shape[a] && indices.allSatisfy { $0 >= 0 && $0 < size }, "indexAdd",
                   "\(indices.count) indices (max \(indices.max() ?? 0)) for axis \(a) of \(shape) into size \(size)")
        var out = shape
        out[a] = size
        return Tensor.make(IndexAddOp(axis: a, indices: indices), [self], shape: out, dtype: dtype)
    }
}
