// Batch normalisation over (N, H, W) per channel, composed from reductions.

extension Tensor {
    /// Batch norm of `[N, C, H, W]` with batch statistics (training). Returns the output, the batch mean
    /// and the unbiased batch variance (`[C]`, for running statistics).
    public func batchNormTraining(weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> (Tensor, mean: Tensor, variance: Tensor) {
        shapeCheck(rank == 4, "batchNorm", "expects [N, C, H, W], got \(shape)")
        let c = shape[1]
        let n = shape[0] * shape[2] * shape[3]
        let mean = self.mean(axes: [0, 2, 3], keepDims: true)                 // [1, C, 1, 1]
        let centered = self - mean
        let biased = centered.square().mean(axes: [0, 2, 3], keepDims: true)
        var y = centered * (biased + eps).rsqrt()
        if let weight { y = y * weight.reshaped([1, c, 1, 1]) }
        if let bias { y = y + bias.reshaped([1, c, 1, 1]) }
        let unbiased = biased.reshaped([c]) * (Double(n) / Double(Swift.max(n - 1, 1)))
        return (y, mean.reshaped([c]), unbiased)
    }

    /// Batch norm of `[N, C, H, W]` with given (running) statistics (evaluation).
    public func batchNormInference(mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
        shapeCheck(rank == 4 && mean.shape == [shape[1]] && variance.shape == [shape[1]], "batchNorm",
                   "input \(shape) with statistics \(mean.shape), \(variance.shape)")
        let c = shape[1]
        var y = (self - mean.reshaped([1, c, 1, 1])) * (variance.reshaped([1, c, 1, 1]) + eps).rsqrt()
        if let weight { y = y * weight.reshaped([1, c, 1, 1]) }
        if let bias { y = y + bias.reshaped([1, c, 1, 1]) }
        return y
    }
}
