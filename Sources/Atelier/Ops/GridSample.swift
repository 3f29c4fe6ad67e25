// Bilinear grid sampling with zero padding (PyTorch grid_sample, both align_corners modes) and affine
// grids. The input may have batch 1 shared by every grid (a brush warped by many strokes) without copies.
// First-order gradients run the backward kernel; higher orders differentiate the composite form.

@inline(__always) private func unnormalize<T: KernelScalar>(_ v: T, _ size: Int, _ alignCorners: Bool) -> (T, T) {
    // Returns the pixel coordinate and d(pixel)/d(v).
    if alignCorners {
        let half: T = T(size - 1) / 2
        return ((v + 1) * half, half)
    }
    let half: T = T(size) / 2
    return ((v + 1) * half - T(0.5), half)
}

struct GridSampleOp: CompositeOp {
    let alignCorners: Bool
    var name: String { "gridSample" }
    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }
    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let x = c.inputs[0].pointer(as: T.self), grid = c.inputs[1].pointer(as: T.self), y = c.outputs[0].pointer(as: T.self)
        let s = c.inputShapes[0], gs = c.inputShapes[1]
        let (nIn, ch, hIn, wIn) = (s[0], s[1], s[2], s[3])
        let (n, hOut, wOut) = (gs[0], gs[1], gs[2])
        let align = alignCorners
        parallelFor(n * hOut, grain: 4) { r in
            for t in r {
                let b = t / hOut, i = t % hOut
                let img = x + (nIn == 1 ? 0 : b) * ch * hIn * wIn
                for j in 0..<wOut {
                    let gp = grid + ((b * hOut + i) * wOut + j) * 2
                    let (ix, _) = unnormalize(gp[0], wIn, align), (iy, _) = unnormalize(gp[1], hIn, align)
                    let fx = ix.rounded(.down), fy = iy.rounded(.down)
                    let tx = ix - fx, ty = iy - fy
                    let out = y + (b * ch * hOut + i) * wOut + j
                    guard fx.isFinite && fy.isFinite && fx > -2 && fy > -2 && fx < T(wIn + 1) && fy < T(hIn + 1) else {
                        for cc in 0..<ch { out[cc * hOut * wOut] = 0 }
                        continue
                    }
                    let x0 = Int(fx), y0 = Int(fy)
                    let in00 = x0 >= 0 && x0 < wIn && y0 >= 0 && y0 < hIn, in01 = x0 + 1 >= 0 && x0 + 1 < wIn && y0 >= 0 && y0 < hIn
                    let in10 = x0 >= 0 && x0 < wIn && y0 + 1 >= 0 && y0 + 1 < hIn, in11 = x0 + 1 >= 0 && x0 + 1 < wIn && y0 + 1 >= 0 && y0 + 1 < hIn
                    for cc in 0..<ch {
                        let p = img + cc * hIn * wIn
                        var v: T = 0
                        if in00 { v += (1 - tx) * (1 - ty) * p[y0 * wIn + x0] }
                        if in01 { v += tx * (1 - ty) * p[y0 * wIn + x0 + 1] }
                        if in10 { v += (1 - tx) * ty * p[(y0 + 1) * wIn + x0] }
                        if in11 { v += tx * ty * p[(y0 + 1) * wIn + x0 + 1] }
                        out[cc * hOut * wOut] = v
                    }
                }
            }
        }
    }
    /// Σ_q tent(ix − q_x)·tent(iy − q_y)·x[q] over every input pixel q, tent(d) = max(0, 1 − |d|): bilinear
    /// weights with zero padding as two dense weight tables, [N, Ho·Wo, W] and [N, Ho·Wo, H]. Its cost grows as
    /// N·Ho·Wo·C·H·W, so it serves only higher-order gradients.
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let x = inputs[0], grid = inputs[1]
        let (nIn, ch, hIn, wIn) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (n, hOut, wOut) = (grid.shape[0], grid.shape[1], grid.shape[2])
        let points = grid.reshaped([n, hOut * wOut, 2])
        func weights(_ axis: Int, _ size: Int) -> Tensor {                                  // [N, Ho·Wo, size]
            let v = points.sliced(axis: 2, axis, axis + 1)
            let pixel = alignCorners ? (v + 1) * (Double(size - 1) / 2) : (v + 1) * (Double(size) / 2) - 0.5
            return (1 - (pixel - Tensor.arange(size, dtype: x.dtype)).abs()).relu()
        }
        let wx = weights(0, wIn), wy = weights(1, hIn)
        let image = nIn == 1 ? x.reshaped([ch * hIn, wIn]) : x.reshaped([n, ch * hIn, wIn])
        let rows = wx.matmul(image, transB: true).reshaped([n, hOut * wOut, ch, hIn])      // Σ over columns
        let sampled = (rows * wy.unsqueezed(2)).sum(axes: [3])                             // Σ over rows: [N, Ho·Wo, C]
        return [sampled.transposed(1, 2).reshaped([n, ch, hOut, wOut])]
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let outs = Tensor.make(GridSampleBackwardOp(alignCorners: alignCorners, wantInput: c.needsGradient[0]),
                               [c.inputs[0], c.inputs[1], c.grad],
                               outputs: [c.inputs[0].spec, c.inputs[1].spec])
        return [c.needsGradient[0] ? outs[0] : nil, c.needsGradient[1] ? outs[1] : nil]
    }
}

/// d(input) and d(grid) of bilinear sampling. d(input) of a shared (batch-1) input is summed over grids
/// through per-slice partials reduced in slice order, so it is deterministic for a given thread count.
struct GridSampleBackwardOp: CompositeOp {
    let alignCorners: Bool
    let wantInput: Bool
    var name: String { "gridSampleBackward" }
    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }
    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let x = c.inputs[0].pointer(as: T.self), grid = c.inputs[1].pointer(as: T.self), g = c.inputs[2].pointer(as: T.self)
        let dx = c.outputs[0].pointer(as: T.self), dgrid = c.outputs[1].pointer(as: T.self)
        let s = c.inputShapes[0], gs = c.inputShapes[1]
        let (nIn, ch, hIn, wIn) = (s[0], s[1], s[2], s[3])
        let (n, hOut, wOut) = (gs[0], gs[1], gs[2])
        let planeIn = ch * hIn * wIn
        let align = alignCorners, wantInput = self.wantInput
        let shared = nIn == 1 && n > 1
        let slices = shared && wantInput ? max(1, min(Threading.count, n)) : 1
        // Partial input gradients for the shared case; slice k owns partials[k].
        let partials = UnsafeMutablePointer<T>.allocate(capacity: shared && wantInput ? slices * planeIn : 1)
        defer { partials.deallocate() }
        if wantInput && !shared { fill(dx, nIn * planeIn, 0) }
        if shared && wantInput { fill(partials, slices * planeIn, 0) }
        func body(_ b: Int, _ acc: UnsafeMutablePointer<T>?) {
            let img = x + (nIn == 1 ? 0 : b) * planeIn
            for i in 0..<hOut {
                for j in 0..<wOut {
                    let gp = grid + ((b * hOut + i) * wOut + j) * 2
                    let (ix, sx) = unnormalize(gp[0], wIn, align), (iy, sy) = unnormalize(gp[1], hIn, align)
                    let fx = ix.rounded(.down), fy = iy.rounded(.down)
                    let dg = dgrid + ((b * hOut + i) * wOut + j) * 2
                    guard fx.isFinite && fy.isFinite && fx > -2 && fy > -2 && fx < T(wIn + 1) && fy < T(hIn + 1) else {
                        dg[0] = 0; dg[1] = 0; continue
                    }
                    let tx = ix - fx, ty = iy - fy
                    let x0 = Int(fx), y0 = Int(fy)
                    let okX0 = x0 >= 0 && x0 < wIn, okX1 = x0 + 1 >= 0 && x0 + 1 < wIn
                    let okY0 = y0 >= 0 && y0 < hIn, okY1 = y0 + 1 >= 0 && y0 + 1 < hIn
                    let ok00 = okX0 && okY0, ok01 = okX1 && okY0, ok10 = okX0 && okY1, ok11 = okX1 && okY1
                    let o00 = y0 * wIn + x0, o01 = o00 + 1, o10 = o00 + wIn, o11 = o10 + 1
                    var gx: T = 0, gy: T = 0
                    for cc in 0..<ch {
                        let p = img + cc * hIn * wIn
                        let go = g[(b * ch + cc) * hOut * wOut + i * wOut + j]
                        let v00 = ok00 ? p[o00] : 0, v01 = ok01 ? p[o01] : 0
                        let v10 = ok10 ? p[o10] : 0, v11 = ok11 ? p[o11] : 0
                        gx += go * ((v01 - v00) * (1 - ty) + (v11 - v10) * ty)
                        gy += go * ((v10 - v00) * (1 - tx) + (v11 - v01) * tx)
                        if let acc {
                            let a = acc + cc * hIn * wIn
                            if ok00 { a[o00] += go * (1 - tx) * (1 - ty) }
                            if ok01 { a[o01] += go * tx * (1 - ty) }
                            if ok10 { a[o10] += go * (1 - tx) * ty }
                            if ok11 { a[o11] += go * tx * ty }
                        }
                    }
                    dg[0] = gx * sx; dg[1] = gy * sy
                }
            }
        }
        let p = UncheckedSendable(partials)
        if shared {
            parallelFor(slices) { r in
                for k in r {
                    for b in (n * k / slices)..<(n * (k + 1) / slices) { body(b, wantInput ? p.value + k * planeIn : nil) }
                }
            }
            if wantInput {
                dx.update(from: partials, count: planeIn)
                for k in 1..<slices { for e in 0..<planeIn { dx[e] += partials[k * planeIn + e] } }
            }
        } else {
            parallelFor(n) { r in for b in r { body(b, wantInput ? dx + b * planeIn : nil) } }
        }
    }
    /// The VJP of the forward's composite (d(input) is computed whether or not the kernel would skip it).
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let grads = vectorJacobianProduct(GridSampleOp(alignCorners: alignCorners).composite, at: [inputs[0], inputs[1]],
                                          cotangents: [inputs[2]])
        return zip(inputs.prefix(2), grads).map { $1 ?? Tensor.zeros(like: $0) }
    }
}

extension Tensor {
    /// Bilinear sampling of `self` `[N or 1, C, H, W]` at `grid` `[N, Ho, Wo, 2]` (x, y in [−1, 1]),
    /// zero outside. Output `[N, C, Ho, Wo]`.
    public func gridSample(_ grid: Tensor, alignCorners: Bool = false) -> Tensor {
        shapeCheck(rank == 4 && grid.rank == 4 && grid.shape[3] == 2 && (shape[0] == grid.shape[0] || shape[0] == 1),
                   "gridSample", "input \(shape) and grid \(grid.shape) do not match ([N, C, H, W], [N, Ho, Wo, 2])")
        return Tensor.make(GridSampleOp(alignCorners: alignCorners), [self, grid],
                           shape: [grid.shape[0], shape[1], grid.shape[1], grid.shape[2]], dtype: dtype)
    }

    /// Sampling grid `[N, H, W, 2]` for affine matrices `theta` `[N, 2, 3]` (PyTorch affine_grid).
    public static func affineGrid(theta: Tensor, height: Int, width: Int, alignCorners: Bool = false) -> Tensor {
        shapeCheck(theta.rank == 3 && theta.shape[1] == 2 && theta.shape[2] == 3, "affineGrid", "theta \(theta.shape) is not [N, 2, 3]")
        func coords(_ n: Int) -> [Double] {
            (0..<n).map { i -> Double in
                if alignCorners { return n == 1 ? 0 : -1 + 2 * Double(i) / Double(n - 1) }
                return (2 * Double(i) + 1) / Double(n) - 1
            }
        }
        let xs = coords(width), ys = coords(height)
        var base: [Double] = []
        base.reserveCapacity(height * width * 3)
        for y in ys { for x in xs { base += [x, y, 1] } }
        let n = theta.shape[0]
        let baseT = Tensor(shape: [height * width, 3], values: base, dtype: theta.dtype)      // [HW, 3]
        return baseT.matmul(theta, transB: true).reshaped([n, height, width, 2])           // [N, HW, 2]
    }
}
