// Layer normalisation over the last axis. The fused kernel outputs x̂ = (x − μ)·r and r = 1/√(σ² + ε);
// the gradient is built from differentiable ops on those outputs, so WGAN-GP can differentiate it again.

struct LayerNormOp: Op {
    let eps: Double
    var name: String { "layerNorm" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        let cols = s.last!, rows = s.reduce(1, *) / max(cols, 1)
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), c.outputs[1].pointer(as: Float.self), rows, cols) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), c.outputs[1].pointer(as: Double.self), rows, cols) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ rstd: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) {
        let eps = T(self.eps)
        parallelFor(rows, grain: max(1, 4096 / max(cols, 1))) { r in
            for row in r {
                let xi = x + row * cols, yi = y + row * cols
                var mean: T = 0
                for j in 0..<cols { mean += xi[j] }
                mean /= T(cols)
                var v: T = 0
                for j in 0..<cols { let d = xi[j] - mean; v += d * d }
                let rs = 1 / T.sqrt(v / T(cols) + eps)
                for j in 0..<cols { yi[j] = (xi[j] - mean) * rs }
                rstd[row] = rs
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let xhat = c.outputs[0], rstd = c.outputs[1]
        let n = Double(c.inputs[0].shape.last!)
        var dx: Tensor? = nil
        if let g = c.cotangents[0] {
            // dx = r·(g − mean(g) − x̂·mean(g∘x̂)), one fused op with its own (fused or composite) gradient rule.
            dx = layerNormBackward(g: g, xhat: xhat, rstd: rstd)
        }
        if let gr = c.cotangents[1] {
            // ∂r/∂x = −r²·x̂/N
            let term = gr * rstd.square() * xhat * (-1 / n)
            dx = dx.map { $0 + term } ?? term
        }
        return [dx]
    }
}

extension Tensor {
    /// (x − mean)/√(var + eps) over the last axis, then `· weight + bias` when given.
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) -> Tensor {
        shapeCheck(rank >= 1 && shape.last! > 0, "layerNorm", "input \(shape) has no features")
        var rowShape = shape
        rowShape[rank - 1] = 1
        let outs = Tensor.make(LayerNormOp(eps: eps), [self], outputs: [
            TensorSpec(shape: shape, dtype: dtype), TensorSpec(shape: rowShape, dtype: dtype)])
        var y = outs[0]
        if let weight {
            shapeCheck(weight.shape == [shape.last!], "layerNorm", "weight \(weight.shape) for input \(shape)")
            y = y * weight
        }
        if let bias { y = y + bias }
        return y
    }
}
