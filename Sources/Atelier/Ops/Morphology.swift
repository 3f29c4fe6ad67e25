// 3×3 max and min window filters (dilation and erosion) over the last two dimensions. Out-of-image
// neighbours are ignored. The gradient goes to the selected element: the centre when it holds the extreme, else
// the first extreme in scan order. Higher orders differentiate the composite form, which makes the same choice.

/// How a window filter combines two values: the larger (dilation) or the smaller (erosion).
protocol WindowPick {
    static func pick<T: KernelScalar>(_ a: T, _ b: T) -> T
    /// True if `a` wins strictly over `b`.
    static func beats<T: KernelScalar>(_ a: T, _ b: T) -> Bool
}
enum PickMax: WindowPick {
    @inline(__always) static func pick<T: KernelScalar>(_ a: T, _ b: T) -> T { a > b ? a : b }
    @inline(__always) static func beats<T: KernelScalar>(_ a: T, _ b: T) -> Bool { a > b }
}
enum PickMin: WindowPick {
    @inline(__always) static func pick<T: KernelScalar>(_ a: T, _ b: T) -> T { a < b ? a : b }
    @inline(__always) static func beats<T: KernelScalar>(_ a: T, _ b: T) -> Bool { a < b }
}

/// The 3×3 filter of one [h, w] plane, separably: a 1×3 pass into `rows`, then a 3×1 pass (the extreme of a
/// window is the extreme of its rows' extremes). Out-of-image neighbours are skipped at the edges.
@inline(__always)
func filterPlane<T: KernelScalar, P: WindowPick>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, rows: UnsafeMutablePointer<T>,
                                                 h: Int, w: Int, _: P.Type) {
    for i in 0..<h {
        let xr = x + i * w, rr = rows + i * w
        if w == 1 { rr[0] = xr[0]; continue }
        rr[0] = P.pick(xr[0], xr[1])
        for j in 1..<(w - 1) { rr[j] = P.pick(P.pick(xr[j - 1], xr[j]), xr[j + 1]) }
        rr[w - 1] = P.pick(xr[w - 2], xr[w - 1])
    }
    for i in 0..<h {
        let yr = y + i * w, rr = rows + i * w
        let above = i > 0 ? rows + (i - 1) * w : rr, below = i < h - 1 ? rows + (i + 1) * w : rr
        for j in 0..<w { yr[j] = P.pick(P.pick(above[j], rr[j]), below[j]) }
    }
}

struct WindowFilterOp: CompositeOp {
    let isMax: Bool
    var name: String { isMax ? "maxFilter3x3" : "minFilter3x3" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), s) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), s) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ s: [Int]) {
        let h = s[s.count - 2], w = s[s.count - 1], planes = s.reduce(1, *) / (h * w)
        let isMax = self.isMax
        parallelFor(planes) { r in
            let rows = UnsafeMutablePointer<T>.allocate(capacity: h * w)
            defer { rows.deallocate() }
            for p in r {
                if isMax { filterPlane(x + p * h * w, y + p * h * w, rows: rows, h: h, w: w, PickMax.self) }
                else { filterPlane(x + p * h * w, y + p * h * w, rows: rows, h: h, w: w, PickMin.self) }
            }
        }
    }
    /// Σ_k s_k·x shifted by offset k, over the nine offsets, with the one-hot selection s computed from detached
    /// values by the kernel's rule (centre first, else the first extreme in scan order). The filter is linear in x
    /// for a fixed selection, so this has the kernel's gradient and second derivative (zero) almost everywhere.
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let x = inputs[0], h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        let padded = x.padded([(1, 1), (1, 1)]), frozen = padded.detached()
        let inside = Tensor.ones([h, w], dtype: x.dtype).padded([(1, 1), (1, 1)])
        func shifted(_ t: Tensor, _ di: Int, _ dj: Int) -> Tensor {
            t.sliced(axis: -2, 1 + di, 1 + di + h).sliced(axis: -1, 1 + dj, 1 + dj + w)
        }
        let extreme = Tensor.make(self, [x.detached()], shape: x.shape, dtype: x.dtype)
        let centre = shifted(frozen, 0, 0).equal(extreme)
        var y = centre * x, unclaimed = 1 - centre
        for di in -1...1 {
            for dj in -1...1 where di != 0 || dj != 0 {
                let hit = shifted(frozen, di, dj).equal(extreme) * shifted(inside, di, dj)
                y = y + unclaimed * hit * shifted(padded, di, dj)
                unclaimed = unclaimed * (1 - hit)
            }
        }
        return [y]
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(WindowFilterBackwardOp(isMax: isMax), [c.inputs[0], c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// Routes each output's cotangent to the element its window selected: the centre if it holds the extreme, else
/// the first extreme in scan order (row by row). Per plane, so race-free.
struct WindowFilterBackwardOp: CompositeOp {
    let isMax: Bool
    var name: String { isMax ? "maxFilter3x3Backward" : "minFilter3x3Backward" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.inputs[1].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), s) },
                          { run(c.inputs[0].pointer(as: Double.self), c.inputs[1].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), s) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>, _ dx: UnsafeMutablePointer<T>, _ s: [Int]) {
        let h = s[s.count - 2], w = s[s.count - 1], planes = s.reduce(1, *) / (h * w)
        let isMax = self.isMax
        parallelFor(planes) { r in
            let scratch = UnsafeMutablePointer<T>.allocate(capacity: 2 * h * w)
            defer { scratch.deallocate() }
            for p in r {
                if isMax { route(x + p * h * w, g + p * h * w, dx + p * h * w, scratch, h: h, w: w, PickMax.self) }
                else { route(x + p * h * w, g + p * h * w, dx + p * h * w, scratch, h: h, w: w, PickMin.self) }
            }
        }
    }
    @inline(__always)
    private func route<T: KernelScalar, P: WindowPick>(_ x: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>,
                                                        _ dx: UnsafeMutablePointer<T>, _ scratch: UnsafeMutablePointer<T>,
                                                        h: Int, w: Int, _ pick: P.Type) {
        let extreme = scratch, rows = scratch + h * w
        filterPlane(x, extreme, rows: rows, h: h, w: w, P.self)
        dx.update(repeating: 0, count: h * w)
        for i in 0..<h {
            for j in 0..<w {
                let centre = i * w + j, m = extreme[centre]
                if !P.beats(m, x[centre]) { dx[centre] += g[centre]; continue }
                var at = centre
                search: for di in -1...1 where i + di >= 0 && i + di < h {
                    for dj in -1...1 where j + dj >= 0 && j + dj < w {
                        let k = (i + di) * w + j + dj
                        if x[k] == m { at = k; break search }
                    }
                }
                dx[at] += g[centre]
            }
        }
    }
    /// The VJP of the forward's composite: linear in g, and constant in x almost everywhere.
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let dx = vectorJacobianProduct(WindowFilterOp(isMax: isMax).composite, at: [inputs[0]], cotangents: [inputs[1]])[0]
        return [dx ?? Tensor.zeros(like: inputs[0])]
    }
}

extension Tensor {
    /// 3×3 maximum filter (morphological dilation) over the last two dimensions.
    public func maxFilter3x3() -> Tensor {
        shapeCheck(rank >= 2, "maxFilter3x3", "needs at least 2 dimensions, got \(shape)")
        return Tensor.make(WindowFilterOp(isMax: true), [self], shape: shape, dtype: dtype)
    }
    /// 3×3 minimum filter (morphological erosion) over the last two dimensions.
    public func minFilter3x3() -> Tensor {
        shapeCheck(rank >= 2, "minFilter3x3", "needs at least 2 dimensions, got \(shape)")
        return Tensor.make(WindowFilterOp(isMax: false), [self], shape: shape, dtype: dtype)
    }
}
