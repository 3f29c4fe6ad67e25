// The layer-norm backward dx = r·(g − mean(g) − x̂·mean(g∘x̂)) as one row op, and the rule that differentiates
// it again. WGAN-GP differentiates every layer norm of D twice; as composite mean/sub/mul expressions this rule
// and its gradient made about twenty passes over each activation, fused they make three. Third and higher
// orders differentiate the composite forms. Rows run along the last axis; r (1/σ) has the row shape [..., 1].

/// Inputs (g, x̂, r) → dx = r·(g − mean(g) − x̂·mean(g∘x̂)).
struct LayerNormBackwardOp: CompositeOp {
    var name: String { "layerNormBackward" }
    /// Each row is read whole before any of it is written.
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let g = c.inputs[0].pointer(as: T.self), xh = c.inputs[1].pointer(as: T.self), rs = c.inputs[2].pointer(as: T.self)
        let dx = c.outputs[0].pointer(as: T.self)
        forEachRow(c.inputShapes[0]) { o, cols in
            let n = T(cols)
            let mg = rowSum(g + o, cols) / n, mgx = rowDot(g + o, xh + o, cols) / n, r = rs[o / cols]
            zipElements(dx + o, g + o, xh + o, cols) { gv, xv in r * (gv - mg - xv * mgx) }
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (g, xhat, rstd) = (inputs[0], inputs[1], inputs[2])
        return [rstd * (g - g.mean(axes: [-1], keepDims: true) - xhat * (g * xhat).mean(axes: [-1], keepDims: true))]
    }

    /// Fused to second order (WGAN-GP's double backward), faster than differentiating the composite.
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let g = c.inputs[0], xhat = c.inputs[1], rstd = c.inputs[2], h = c.grad
        // The map g ↦ dx is symmetric, so its g-gradient is the same rule applied to h.
        let dg: Tensor? = c.needsGradient[0] ? layerNormBackward(g: h, xhat: xhat, rstd: rstd) : nil
        guard c.needsGradient[1] || c.needsGradient[2] else { return [dg, nil, nil] }
        let outs = Tensor.make(LayerNormBackwardInputGradientOp(), [g, xhat, rstd, h], outputs: [
            TensorSpec(shape: xhat.shape, dtype: xhat.dtype), TensorSpec(shape: rstd.shape, dtype: rstd.dtype)])
        return [dg, c.needsGradient[1] ? outs[0] : nil, c.needsGradient[2] ? outs[1] : nil]
    }
}

/// Inputs (g, x̂, r, h) → (d/dx̂, d/dr) of `LayerNormBackwardOp` for cotangent h:
/// d/dx̂ = −r·(h·mean(g∘x̂) + g·mean(h∘x̂)), d/dr = Σ_row h∘(g − mean(g) − x̂·mean(g∘x̂)).
struct LayerNormBackwardInputGradientOp: CompositeOp {
    var name: String { "layerNormBackwardGrad" }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let g = c.inputs[0].pointer(as: T.self), xh = c.inputs[1].pointer(as: T.self)
        let rs = c.inputs[2].pointer(as: T.self), h = c.inputs[3].pointer(as: T.self)
        let dxh = c.outputs[0].pointer(as: T.self), dr = c.outputs[1].pointer(as: T.self)
        forEachRow(c.inputShapes[0]) { o, cols in
            let n = T(cols), row = o / cols
            let sg = rowSum(g + o, cols), sh = rowSum(h + o, cols)
            let sgx = rowDot(g + o, xh + o, cols), shx = rowDot(h + o, xh + o, cols), shg = rowDot(h + o, g + o, cols)
            let mgx = sgx / n, mhx = shx / n, r = rs[row]
            // Σ h∘(g − mean(g) − x̂·mgx) = Σh∘g − mean(g)·Σh − mgx·Σh∘x̂
            dr[row] = shg - sg / n * sh - mgx * shx
            zipElements(dxh + o, h + o, g + o, cols) { hv, gv in -r * (hv * mgx + gv * mhx) }
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (g, xhat, rstd, h) = (inputs[0], inputs[1], inputs[2], inputs[3])
        let mgx = (g * xhat).mean(axes: [-1], keepDims: true), mhx = (h * xhat).mean(axes: [-1], keepDims: true)
        return [-(rstd * (h * mgx + g * mhx)),
                (h * (g - g.mean(axes: [-1], keepDims: true) - xhat * mgx)).sum(axes: [-1], keepDims: true)]
    }
}

/// Σ a[i] with eight independent partial sums.
@inline(__always)
func rowSum<T: KernelScalar>(_ a: UnsafePointer<T>, _ n: Int) -> T {
    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0, s4: T = 0, s5: T = 0, s6: T = 0, s7: T = 0
    var i = 0
    while i + 8 <= n {
        s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]
        s4 += a[i + 4]; s5 += a[i + 5]; s6 += a[i + 6]; s7 += a[i + 7]
        i += 8
    }
    while i < n { s0 += a[i]; i += 1 }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

/// The layer-norm input gradient for cotangent `g` of x̂, given the forward's x̂ and r = 1/σ (row shape).
func layerNormBackward(g: Tensor, xhat: Tensor, rstd: Tensor) -> Tensor {
    var rowShape = xhat.shape
    if !rowShape.isEmpty { rowShape[rowShape.count - 1] = 1 }
    shapeCheck(g.shape == xhat.shape && rstd.shape == rowShape && g.dtype == xhat.dtype && rstd.dtype == xhat.dtype,
               "layerNormBackward", "g \(g.shape), x̂ \(xhat.shape), r \(rstd.shape)")
    return Tensor.make(LayerNormBackwardOp(), [g, xhat, rstd], shape: xhat.shape, dtype: xhat.dtype)
}
