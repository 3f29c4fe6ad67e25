// Optimisers update parameter storage in place from evaluated gradients. A subclass supplies its
// per-parameter state and the update; the base handles bookkeeping, gradient scaling and state naming.

/// Base optimiser over a fixed, named list of parameters.
open class Optimizer: @unchecked Sendable {
    public let parameters: [(String, Parameter)]
    /// Learning rate used by the next `step` (schedules set it).
    public var learningRate: Double
    /// Number of completed steps.
    public var stepCount = 0

    public init(parameters: [(String, Parameter)], learningRate: Double) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Applies one update. `gradients[i]` belongs to `parameters[i]` and must be evaluated (or evaluable);
    /// every gradient is multiplied by `gradientScale` first (global-norm clipping passes its factor here).
    public func step(gradients: [Tensor], gradientScale: Double = 1) {
        precondition(gradients.count == parameters.count, "[optimizer] \(gradients.count) gradients for \(parameters.count) parameters")
        let missing = gradients.filter { $0.value == nil }
        if !missing.isEmpty { evaluate(missing) }
        stepCount += 1
        for (i, (name, p)) in parameters.enumerated() {
            precondition(gradients[i].shape == p.shape && gradients[i].dtype == p.dtype,
                         "[optimizer] gradient \(gradients[i].shape) for parameter '\(name)' \(p.shape)")
            update(index: i, parameter: p, gradient: gradients[i].value!, scale: gradientScale)
        }
    }

    /// Updates one parameter; subclasses override.
    open func update(index: Int, parameter: Parameter, gradient: Buffer, scale: Double) {
        fatalError("[optimizer] subclass must implement update")
    }

    /// Named state tensors (for checkpoints), e.g. `exp_avg.blocks.0.weight`.
    open func namedState() -> [(String, StateTensor)] { [] }
}

/// Elementwise update over a parameter's float32 or float64 storage, in parallel slices.
@inline(__always)
func forEachElement(_ p: Parameter, _ body32: (Range<Int>, UnsafeMutablePointer<Float>) -> Void,
                    _ body64: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) {
    let n = p.count
    switch p.dtype {
    case .float32: let ptr = p.buffer.pointer(as: Float.self); parallelFor(n, grain: 16384) { body32($0, ptr) }
    case .float64: let ptr = p.buffer.pointer(as: Double.self); parallelFor(n, grain: 16384) { body64($0, ptr) }
    }
}
