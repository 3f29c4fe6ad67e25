// The batch-norm backward as one op: per channel dx = r·γ·(g − mean(g) − x̂·mean(g∘x̂)), with the weight and bias
// gradients Σ g∘x̂ and Σ g from the same sums. Per channel, one pass reads (g, x̂) for the sums and the next, finding
// them in cache, writes dx, where the composite form's rules made about twenty passes. Higher orders differentiate
// its composite form (nothing here takes a double backward through batch norm often enough to fuse that too).
// Means run over (N, H, W) per channel.

/// Inputs (g, x̂, r, [γ]) → (dx, Σ g, Σ g∘x̂); r, γ and the sums have shape [C].
struct BatchNormBackwardOp: CompositeOp {
    let hasWeight: Bool
    var name: String { "batchNormBackward" }
    /// A channel's sums read its g before its dx is written, and then element i is read before it is written.
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: BatchNormScalar>(_: T.Type, _ c: KernelContext) {
        let p = ChannelPlanes(c.inputShapes[0])
        let count = Double(p.perChannel)
        let g = c.inputs[0].pointer(as: T.self), xhat = c.inputs[1].pointer(as: T.self), rstd = c.inputs[2].pointer(as: T.self)
        let weight = hasWeight ? c.inputs[3].pointer(as: T.self) : nil
        let dx = c.outputs[0].pointer(as: T.self), sumG = c.outputs[1].pointer(as: T.self), sumGX = c.outputs[2].pointer(as: T.self)
        p.forEachChannel { ch in
            let s = p.backwardSums(g: g, xhat: xhat, channel: ch)
            sumG[ch] = T(s.sumG)
            sumGX[ch] = T(s.sumGX)
            p.backward(dx: dx, g: g, xhat: xhat, channel: ch, scale: rstd[ch] * (weight?[ch] ?? 1), meanG: T(s.sumG / count), meanGX: T(s.sumGX / count))
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (g, xhat, rstd) = (inputs[0], inputs[1], inputs[2])
        let channels = g.shape[1], perChannel = [1, channels, 1, 1], count = Double(g.count / channels)
        let sumG = g.sum(axes: [0, 2, 3]), sumGX = (g * xhat).sum(axes: [0, 2, 3])
        let scale = hasWeight ? rstd * inputs[3] : rstd
        let dx = scale.reshaped(perChannel) * (g - (sumG * (1 / count)).reshaped(perChannel) - xhat * (sumGX * (1 / count)).reshaped(perChannel))
        return [dx, sumG, sumGX]
    }
}

/// The batch-norm gradients for cotangent `g` of y = x̂·γ + β (or of x̂ when `weight` is nil), given the forward's
/// x̂ and r = 1/√(σ² + ε): the input gradient and the per-channel sums that are β's and γ's gradients.
func batchNormBackward(g: Tensor, xhat: Tensor, rstd: Tensor, weight: Tensor?) -> (dx: Tensor, sumG: Tensor, sumGXhat: Tensor) {
    let c = xhat.rank == 4 ? xhat.shape[1] : -1
    shapeCheck(xhat.rank == 4 && g.shape == xhat.shape && rstd.shape == [c] && (weight?.shape ?? [c]) == [c]
               && g.dtype == xhat.dtype && rstd.dtype == xhat.dtype && (weight?.dtype ?? xhat.dtype) == xhat.dtype,
               "batchNormBackward", "g \(g.shape), x̂ \(xhat.shape), r \(rstd.shape), weight \(weight.map { "\($0.shape)" } ?? "none")")
    let stat = TensorSpec(shape: [c], dtype: xhat.dtype)
    let outs = Tensor.make(BatchNormBackwardOp(hasWeight: weight != nil), [g, xhat, rstd] + (weight.map { [$0] } ?? []),
                           outputs: [TensorSpec(shape: xhat.shape, dtype: xhat.dtype), stat, stat])
    return (outs[0], outs[1], outs[2])
}
