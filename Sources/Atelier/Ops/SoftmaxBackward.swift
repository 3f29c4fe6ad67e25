// The softmax backward dx = y ∘ (g − Σ y∘g) as one row op, and the rule that differentiates it again.
// WGAN-GP differentiates attention twice; as composite mul/sum/sub/mul expressions this rule and its own
// gradient made a dozen full passes over every [B, H, T, T] probability tensor, fused they make three.
// Third and higher orders differentiate the composite forms. Rows run along the last axis.

/// Inputs (y, g) → dx = y ∘ (g − Σ_row y∘g).
struct SoftmaxBackwardOp: CompositeOp {
    var name: String { "softmaxBackward" }
    /// Each row is read whole before any of it is written.
    var inPlaceCandidates: [Int] { [1] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let y = c.inputs[0].pointer(as: T.self), g = c.inputs[1].pointer(as: T.self), dx = c.outputs[0].pointer(as: T.self)
        forEachRow(c.inputShapes[0]) { o, cols in
            let s = rowDot(y + o, g + o, cols)
            zipElements(dx + o, y + o, g + o, cols) { yv, gv in yv * (gv - s) }
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (y, g) = (inputs[0], inputs[1])
        return [y * (g - (y * g).sum(axes: [-1], keepDims: true))]
    }

    /// Fused to second order (WGAN-GP's double backward), faster than differentiating the composite.
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let y = c.inputs[0], g = c.inputs[1], gg = c.grad
        // d/dg: the same rule with gg in place of g.
        let dg: Tensor? = c.needsGradient[1] ? softmaxBackward(y: y, g: gg) : nil
        guard c.needsGradient[0] else { return [nil, dg] }
        return [Tensor.make(SoftmaxBackwardOutputGradientOp(), [y, g, gg], shape: y.shape, dtype: y.dtype), dg]
    }
}

/// Inputs (y, g, gg) → d/dy_i = gg_i·(g_i − Σ y∘g) − g_i·Σ gg∘y: the y-gradient of `SoftmaxBackwardOp`.
struct SoftmaxBackwardOutputGradientOp: CompositeOp {
    var name: String { "softmaxBackwardGrad" }
    var inPlaceCandidates: [Int] { [2] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let y = c.inputs[0].pointer(as: T.self), g = c.inputs[1].pointer(as: T.self), gg = c.inputs[2].pointer(as: T.self)
        let out = c.outputs[0].pointer(as: T.self)
        forEachRow(c.inputShapes[0]) { o, cols in
            let syg = rowDot(y + o, g + o, cols), sgy = rowDot(gg + o, y + o, cols)
            zipElements(out + o, g + o, gg + o, cols) { gv, ggv in ggv * (gv - syg) - gv * sgy }
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (y, g, gg) = (inputs[0], inputs[1], inputs[2])
        return [gg * (g - (y * g).sum(axes: [-1], keepDims: true)) - g * (gg * y).sum(axes: [-1], keepDims: true)]
    }
}

/// Calls `body(offset, cols)` for every row along the last axis of `shape`, rows split across threads.
@inline(__always)
func forEachRow(_ shape: [Int], _ body: (_ offset: Int, _ cols: Int) -> Void) {
    let cols = shape.last ?? 1, rows = shape.reduce(1, *) / max(cols, 1)
    parallelFor(rows, grain: max(1, 8192 / max(cols, 1))) { r in
        for row in r { body(row * cols, cols) }
    }
}

/// Σ a[i]·b[i] with eight independent partial sums, so the loop is not one long dependency chain.
@inline(__always)
func rowDot<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> T {
    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0, s4: T = 0, s5: T = 0, s6: T = 0, s7: T = 0
    var i = 0
    while i + 8 <= n {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        s4 += a[i + 4] * b[i + 4]; s5 += a[i + 5] * b[i + 5]; s6 += a[i + 6] * b[i + 6]; s7 += a[i + 7] * b[i + 7]
        i += 8
    }
    while i < n { s0 += a[i] * b[i]; i += 1 }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

/// The softmax backward for output `y` and cotangent `g` (same shape), over the last axis.
func softmaxBackward(y: Tensor, g: Tensor) -> Tensor {
    shapeCheck(y.shape == g.shape && y.dtype == g.dtype, "softmaxBackward", "y \(y.shape) and g \(g.shape) differ")
    return Tensor.make(SoftmaxBackwardOp(), [y, g], shape: y.shape, dtype: y.dtype)
}
