// Batch normalisation of [N, C, H, W] with batch statistics (training), as one fused op. Composed from engine ops
// it made about ten passes over the activation forward and twice that backward; fused, the forward takes each
// channel's statistics and then writes its y and x̂ while it is in cache, and the gradient is one fused backward op
// (BatchNormBackward.swift) on the outputs x̂ and r = 1/√(σ² + ε), which differentiates again for second order.

/// Inputs (x, [γ], [β]) → (y = x̂·γ + β, x̂ = (x − μ)·r, μ, r, unbiased σ²); the last three have shape [C].
struct BatchNormOp: CompositeOp {
    let eps: Double
    let hasWeight: Bool, hasBias: Bool
    var name: String { "batchNorm" }
    /// A channel's statistics are taken before its y is written, and then element i is read before it is written.
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: BatchNormScalar>(_: T.Type, _ c: KernelContext) {
        let p = ChannelPlanes(c.inputShapes[0])
        let count = Double(p.perChannel), eps = self.eps
        let x = c.inputs[0].pointer(as: T.self), y = c.outputs[0].pointer(as: T.self), xhat = c.outputs[1].pointer(as: T.self)
        let mean = c.outputs[2].pointer(as: T.self), rstd = c.outputs[3].pointer(as: T.self), variance = c.outputs[4].pointer(as: T.self)
        let weight = hasWeight ? c.inputs[1].pointer(as: T.self) : nil, bias = hasBias ? c.inputs.last!.pointer(as: T.self) : nil
        p.forEachChannel { ch in
            let s = p.statistics(x: x, channel: ch)
            mean[ch] = T(s.mean)
            rstd[ch] = T(1 / (s.m2 / count + eps).squareRoot())
            variance[ch] = T(s.m2 / Swift.max(count - 1, 1))
            p.normalize(y: y, xhat: xhat, x: x, channel: ch, mean: mean[ch], rstd: rstd[ch], weight: weight?[ch] ?? 1, bias: bias?[ch] ?? 0)
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let x = inputs[0], channels = x.shape[1], perChannel = [1, channels, 1, 1], count = Double(x.count / channels)
        let mean = x.mean(axes: [0, 2, 3], keepDims: true)
        let centered = x - mean
        let biased = centered.square().mean(axes: [0, 2, 3], keepDims: true)
        let rstd = (biased + eps).rsqrt()
        let xhat = centered * rstd
        var y = xhat
        if hasWeight { y = y * inputs[1].reshaped(perChannel) }
        if hasBias { y = y + inputs.last!.reshaped(perChannel) }
        return [y, xhat, mean.reshaped([channels]), rstd.reshaped([channels]), biased.reshaped([channels]) * (count / Swift.max(count - 1, 1))]
    }

    /// Hand-written: one fused backward op, where differentiating the composite would rebuild the engine-op passes.
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let x = c.inputs[0], xhat = c.outputs[1], rstd = c.outputs[3]
        let channels = x.shape[1], count = Double(x.count / channels), perChannel = [1, channels, 1, 1]
        var terms: [Tensor] = [], dWeight: Tensor? = nil, dBias: Tensor? = nil
        if let g = c.cotangents[0] {
            let d = batchNormBackward(g: g, xhat: xhat, rstd: rstd, weight: hasWeight ? c.inputs[1] : nil)
            terms.append(d.dx)
            dWeight = d.sumGXhat
            dBias = d.sumG
        }
        // The other outputs' cotangents arise above first order (x̂, r feed the backward op) or from a loss on the
        // batch statistics.
        if let g = c.cotangents[1] { terms.append(batchNormBackward(g: g, xhat: xhat, rstd: rstd, weight: nil).dx) }
        // ∂μ/∂x = 1/M
        if let g = c.cotangents[2] { terms.append((g * (1 / count)).reshaped(perChannel).expanded(to: x.shape)) }
        // ∂r/∂x = −r²·x̂/M
        if let g = c.cotangents[3] { terms.append(xhat * (g * rstd.square() * (-1 / count)).reshaped(perChannel)) }
        // ∂σ²/∂x = 2(x − μ)/(M − 1) = 2·x̂/(r·(M − 1)) for the unbiased σ²
        if let g = c.cotangents[4] { terms.append(xhat * (g / rstd * (2 / Swift.max(count - 1, 1))).reshaped(perChannel)) }
        let dx: Tensor? = terms.isEmpty ? nil : terms.count == 1 ? terms[0] : Tensor.sum(terms)
        return [dx] + (hasWeight ? [dWeight] : []) + (hasBias ? [dBias] : [])
    }
}

extension Tensor {
    /// Batch norm of `[N, C, H, W]` with batch statistics (training). Returns the output, the batch mean
    /// and the unbiased batch variance (`[C]`, for running statistics).
    public func batchNormTraining(weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> (Tensor, mean: Tensor, variance: Tensor) {
        shapeCheck(rank == 4 && shape[1] > 0 && shape[0] * shape[2] * shape[3] > 0, "batchNorm",
                   "expects [N, C, H, W] with elements in every channel, got \(shape)")
        let c = shape[1]
        for (role, t) in [("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            shapeCheck(t.shape == [c] && t.dtype == dtype, "batchNorm", "\(role) \(t.shape) (\(t.dtype)) for input \(shape) (\(dtype))")
        }
        let op = BatchNormOp(eps: eps, hasWeight: weight != nil, hasBias: bias != nil)
        let stat = TensorSpec(shape: [c], dtype: dtype)
        let outs = Tensor.make(op, [self] + [weight, bias].compactMap { $0 }, outputs: [
            TensorSpec(shape: shape, dtype: dtype), TensorSpec(shape: shape, dtype: dtype), stat, stat, stat])
        return (outs[0], outs[2], outs[4])
    }
}
