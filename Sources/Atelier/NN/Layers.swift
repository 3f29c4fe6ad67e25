// Basic layers with PyTorch parameter names and default initialisation.

/// y = x·Wᵀ + b, W `[out, in]`.
public final class Linear: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32, rng: RandomGenerator) {
        weight = Parameter(Initializer.pytorchDefault([outFeatures, inFeatures], fanIn: inFeatures, dtype: dtype, rng: rng))
        self.bias = bias ? Parameter(Initializer.pytorchDefault([outFeatures], fanIn: inFeatures, dtype: dtype, rng: rng)) : nil
        super.init()
        register("weight", weight)
        if let b = self.bias { register("bias", b) }
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        shapeCheck(x.shape.last == weight.shape[1], "linear", "input \(x.shape) for weight \(weight.shape)")
        return x.linear(weight: weight.tensor, bias: bias?.tensor, precision: matmulPrecision)
    }
}

/// 2-d convolution, weight `[out, in, k, k]`.
public final class Conv2d: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int, padding: Int
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                dtype: DType = .float32, rng: RandomGenerator) {
        let fanIn = inChannels * kernel * kernel
        weight = Parameter(Initializer.pytorchDefault([outChannels, inChannels, kernel, kernel], fanIn: fanIn, dtype: dtype, rng: rng))
        self.bias = bias ? Parameter(Initializer.pytorchDefault([outChannels], fanIn: fanIn, dtype: dtype, rng: rng)) : nil
        self.stride = stride
        self.padding = padding
        super.init()
        register("weight", weight)
        if let b = self.bias { register("bias", b) }
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding, precision: matmulPrecision)
    }
}

/// Layer normalisation over the last dimension with affine parameters.
public final class LayerNorm: Module, @unchecked Sendable {
    public let weight: Parameter, bias: Parameter
    public let eps: Double
    public init(_ features: Int, eps: Double = 1e-5, dtype: DType = .float32) {
        weight = Parameter(Tensor.ones([features], dtype: dtype))
        bias = Parameter(Tensor.zeros([features], dtype: dtype))
        self.eps = eps
        super.init()
        register("weight", weight)
        register("bias", bias)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight.tensor, bias: bias.tensor, eps: eps) }
}

/// Batch normalisation of `[N, C, H, W]` with running statistics (momentum 0.1, as PyTorch).
public final class BatchNorm2d: Module, @unchecked Sendable {
    public let weight: Parameter, bias: Parameter
    public let runningMean: StateTensor, runningVar: StateTensor
    public let eps: Double, momentum: Double
    private var pending: (mean: Tensor, variance: Tensor)?
    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, dtype: DType = .float32) {
        weight = Parameter(Tensor.ones([channels], dtype: dtype))
        bias = Parameter(Tensor.zeros([channels], dtype: dtype))
        runningMean = StateTensor(Tensor.zeros([channels], dtype: dtype))
        runningVar = StateTensor(Tensor.ones([channels], dtype: dtype))
        self.eps = eps
        self.momentum = momentum
        super.init()
        register("weight", weight)
        register("bias", bias)
        registerBuffer("running_mean", runningMean)
        registerBuffer("running_var", runningVar)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if training {
            let (y, mean, variance) = x.batchNormTraining(weight: weight.tensor, bias: bias.tensor, eps: eps)
            pending = (mean, variance)
            return y
        }
        return x.batchNormInference(mean: runningMean.tensor, variance: runningVar.tensor, weight: weight.tensor, bias: bias.tensor, eps: eps)
    }
    public override func pendingStatistics() -> [Tensor] { pending.map { [$0.mean, $0.variance] } ?? [] }
    public override func replacePendingStatistics(_ values: inout ArraySlice<Double>) {
        guard let (mean, variance) = pending else { return }
        let c = mean.count
        precondition(values.count >= 2 * c, "[BatchNorm2d.replacePendingStatistics] \(values.count) values left for 2 × \(c) channels")
        let m = Array(values.prefix(c)), v = Array(values.dropFirst(c).prefix(c))
        values = values.dropFirst(2 * c)
        pending = (Tensor(shape: mean.shape, values: m, dtype: mean.dtype), Tensor(shape: variance.shape, values: v, dtype: variance.dtype))
    }
    public override func applyStatisticUpdates() {
        guard let (mean, variance) = pending else { return }
        pending = nil
        let m = mean.doubles(), v = variance.doubles()
        let rm = runningMean.tensor.doubles(), rv = runningVar.tensor.doubles()
        runningMean.assign(zip(rm, m).map { Float((1 - momentum) * $0 + momentum * $1) })
        runningVar.assign(zip(rv, v).map { Float((1 - momentum) * $0 + momentum * $1) })
    }
}
