// Reductions over one contiguous block of axes (others are reduced one axis at a time). Gradients broadcast
// the cotangent back; max/min split it evenly between tied elements.

public enum ReduceKind: String, Sendable { case sum, max, min }

struct ReduceOp: Op {
    let kind: ReduceKind
    /// The input viewed as [outer, reduced, inner].
    let outer: Int, reduced: Int, inner: Int
    var name: String { kind.rawValue }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self)) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self)) })
    }

    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>) {
        let (outer, reduced, inner, kind) = (self.outer, self.reduced, self.inner, self.kind)
        if inner == 1 {
            parallelFor(outer, grain: max(1, 16384 / max(reduced, 1))) { r in
                for o in r {
                    let row = x + o * reduced
                    switch kind {
                    case .sum:
                        // Four partial sums: vectorisable and more accurate than one running sum.
                        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
                        var i = 0
                        while i + 4 <= reduced { s0 += row[i]; s1 += row[i + 1]; s2 += row[i + 2]; s3 += row[i + 3]; i += 4 }
                        while i < reduced { s0 += row[i]; i += 1 }
                        y[o] = (s0 + s1) + (s2 + s3)
                    case .max:
                        var m = -T.infinity
                        for i in 0..<reduced where row[i] > m || row[i].isNaN { m = row[i] }
                        y[o] = m
                    case .min:
                        var m = T.infinity
                        for i in 0..<reduced where row[i] < m || row[i].isNaN { m = row[i] }
                        y[o] = m
                    }
                }
            }
            return
        }
        parallelFor(outer * inner, grain: 4096) { r in
            // Slice over (outer, inner-chunk) so each output element is owned by one task.
            var idx = r.lowerBound
            while idx < r.upperBound {
                let o = idx / inner, i0 = idx % inner
                let i1 = min(inner, i0 + (r.upperBound - idx))
                let out = y + o * inner
                let base = x + o * reduced * inner
                switch kind {
                case .sum:
                    for i in i0..<i1 { out[i] = 0 }
                    for k in 0..<reduced { let row = base + k * inner; for i in i0..<i1 { out[i] += row[i] } }
                case .max:
                    for i in i0..<i1 { out[i] = -T.infinity }
                    for k in 0..<reduced { let row = base + k * inner; for i in i0..<i1 where row[i] > out[i] || row[i].isNaN { out[i] = row[i] } }
                case .min:
                    for i in i0..<i1 { out[i] = T.infinity }
                    for k in 0..<reduced { let row = base + k * inner; for i in i0..<i1 where row[i] < out[i] || row[i].isNaN { out[i] = row[i] } }
                }
                idx += i1 - i0
            }
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let x = c.inputs[0], y = c.outputs[0]
        let keptShape = [outer, 1, inner]
        let g = c.grad.reshaped(keptShape).expanded(to: [outer, reduced, inner])
        switch kind {
        case .sum:
            return [g.reshaped(x.shape)]
        case .max, .min:
            let x3 = x.reshaped([outer, reduced, inner])
            let mask = x3.equal(y.reshaped(keptShape))
            let ties = mask.sum(axes: [1], keepDims: true)
            return [(g * mask / ties).reshaped(x.shape)]
        }
    }
}

extension Tensor {
    /// Reduces `axes`, keeping them as size-1 dimensions.
    private func reduceKeepingDims(_ kind: ReduceKind, axes: [Int]) -> Tensor {
        let op = kind.rawValue
        var axes = Array(Set(axes.map { normalizeAxis($0, rank: rank, op: op) })).sorted()
        if axes.isEmpty { return self }
        if rank == 0 { return self }
        var x = self
        // Reduce contiguous runs, last run first, so each step is one [outer, reduced, inner] kernel.
        while let last = axes.last {
            var first = last
            while axes.contains(first - 1) { first -= 1 }
            let s = x.shape
            let outer = s[..<first].reduce(1, *), reduced = s[first...last].reduce(1, *), inner = s[(last + 1)...].reduce(1, *)
            var outShape = s
            for a in first...last { outShape[a] = 1 }
            x = Tensor.make(ReduceOp(kind: kind, outer: outer, reduced: reduced, inner: inner), [x], shape: outShape, dtype: dtype)
            axes.removeAll { $0 >= first }
        }
        return x
    }

    /// Sum over `axes` (all axes if nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduceAll(.sum, axes, keepDims)
    }
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduceAll(.max, axes, keepDims) }
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduceAll(.min, axes, keepDims) }

    /// Mean over `axes` (all axes if nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let n = ax.map { shape[normalizeAxis($0, rank: rank, op: "mean")] }.reduce(1, *)
        return sum(axes: ax, keepDims: keepDims) * (1.0 / Double(Swift.max(n, 1)))
    }

    /// Variance over `axes` (biased unless `unbiased`).
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let n = ax.map { shape[normalizeAxis($0, rank: rank, op: "variance")] }.reduce(1, *)
        let centered = self - mean(axes: ax, keepDims: true)
        let ss = centered.square().sum(axes: ax, keepDims: keepDims)
        return ss * (1.0 / Double(Swift.max(unbiased ? n - 1 : n, 1)))
    }

    private func reduceAll(_ kind: ReduceKind, _ axes: [Int]?, _ keepDims: Bool) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let reducedAxes = Set(ax.map { normalizeAxis($0, rank: rank, op: kind.rawValue) })
        let r = reduceKeepingDims(kind, axes: ax)
        if keepDims { return r }
        return r.reshaped(shape.enumerated().filter { !reducedAxes.contains($0.offset) }.map(\.element))
    }

    /// Sums broadcast dimensions away so the result has `target` shape (the adjoint of broadcasting).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        shapeCheck(lead >= 0, "sum(toShape:)", "cannot reduce \(shape) to \(target)")
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }
}
