// Batch normalisation of [N, C, H, W] with given (running) statistics, as one pass: y = (x − μ)·r·γ + β with
// r = 1/√(σ² + ε) per channel. It rounds as the composite form does, step by step (no fused multiply-add, μ
// subtracted first: a folded x·scale + shift would also cancel when |μ| ≫ σ), so trained models give the same
// bits as before. Its gradient differentiates the composite form: nothing trains through running statistics.

/// Inputs (x, μ, σ², [γ], [β]) → y; the statistics and affine parameters have shape [C].
struct BatchNormInferenceOp: CompositeOp {
    let eps: Double
    let hasWeight: Bool, hasBias: Bool
    var name: String { "batchNormInference" }
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: BatchNormScalar>(_: T.Type, _ c: KernelContext) {
        let p = ChannelPlanes(c.inputShapes[0])
        let eps = T(self.eps)
        let x = c.inputs[0].pointer(as: T.self), y = c.outputs[0].pointer(as: T.self)
        let mean = c.inputs[1].pointer(as: T.self), variance = c.inputs[2].pointer(as: T.self)
        let weight = hasWeight ? c.inputs[3].pointer(as: T.self) : nil, bias = hasBias ? c.inputs.last!.pointer(as: T.self) : nil
        p.forEachChannel { ch in
            // r as the composite's rsqrt computes it, in T.
            p.normalize(y: y, xhat: nil, x: x, channel: ch, mean: mean[ch], rstd: 1 / (variance[ch] + eps).squareRoot(),
                        weight: weight?[ch] ?? 1, bias: bias?[ch] ?? 0)
        }
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let channels = inputs[0].shape[1], perChannel = [1, channels, 1, 1]
        var y = (inputs[0] - inputs[1].reshaped(perChannel)) * (inputs[2].reshaped(perChannel) + eps).rsqrt()
        if hasWeight { y = y * inputs[3].reshaped(perChannel) }
        if hasBias { y = y + inputs.last!.reshaped(perChannel) }
        return [y]
    }
}

extension Tensor {
    /// Batch norm of `[N, C, H, W]` with given (running) statistics (evaluation).
    public func batchNormInference(mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
        shapeCheck(rank == 4, "batchNormInference", "expects [N, C, H, W], got \(shape)")
        let c = shape[1]
        for (role, t) in [("mean", mean), ("variance", variance), ("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            shapeCheck(t.shape == [c] && t.dtype == dtype, "batchNormInference", "\(role) \(t.shape) (\(t.dtype)) for input \(shape) (\(dtype))")
        }
        let op = BatchNormInferenceOp(eps: eps, hasWeight: weight != nil, hasBias: bias != nil)
        return Tensor.make(op, [self, mean, variance] + [weight, bias].compactMap { $0 }, shape: shape, dtype: dtype)
    }
}
