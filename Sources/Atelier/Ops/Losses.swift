// Losses, mean-reduced as in PyTorch's defaults.

extension Tensor {
    /// mean |a − b|
    public func l1Loss(_ target: Tensor) -> Tensor { (self - target).abs().mean() }
    /// mean (a − b)²
    public func mseLoss(_ target: Tensor) -> Tensor { (self - target).square().mean() }

    /// Binary cross-entropy on logits, `posWeight` scaling the positive term (PyTorch BCEWithLogitsLoss):
    /// ℓ = −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably via softplus(−x) = log(1 + e^{−|x|}) + max(−x, 0).
    public func binaryCrossEntropyWithLogits(_ target: Tensor, posWeight: Double = 1) -> Tensor {
        shapeCheck(shape == target.shape, "binaryCrossEntropyWithLogits", "logits \(shape) vs targets \(target.shape)")
        let softplusNeg = (-self).softplus()                                  // −log σ(x)
        let weight = target * (posWeight - 1) + 1
        return ((1 - target) * self + weight * softplusNeg).mean()
    }

    /// softplus(x) = log(1 + eˣ), computed as log(1 + e^{−|x|}) + max(x, 0) so large |x| neither overflows nor
    /// loses the linear part; its gradient is σ(x).
    public func softplus() -> Tensor { ((-abs()).exp() + 1).log() + relu() }

    /// Hinge loss mean(relu(1 − y·x)) for labels y ∈ {−1, +1} given as a scalar sign.
    public func hingeLoss(sign: Double) -> Tensor { (1 - self * sign).relu().mean() }
}
