// The contract every primitive obeys: a forward kernel over evaluated buffers and a gradient rule that
// builds new graph nodes from engine ops (so gradients can be differentiated again).

/// Evaluated inputs and freshly allocated outputs of one node, handed to its kernel.
public struct KernelContext {
    public let inputs: [Buffer]
    public let inputShapes: [[Int]]
    public let outputs: [Buffer]
    public let outputShapes: [[Int]]
    public let dtype: DType
}

/// Everything a gradient rule may use: the forward inputs and outputs as tensors and the cotangents of the
/// outputs (nil where no gradient flows). Whatever a rule builds must itself be differentiable: engine ops,
/// or fused ops that are `CompositeOp`s.
public struct GradientContext {
    public let inputs: [Tensor]
    public let outputs: [Tensor]
    public let cotangents: [Tensor?]
    /// Whether each input needs a gradient (rules may skip work for the others).
    public let needsGradient: [Bool]
    /// The cotangent of output 0; rules of single-output ops read this.
    public var grad: Tensor { cotangents[0]! }
}

/// A primitive operation in the graph.
public protocol Op: Sendable {
    /// Short name used in error messages and graph dumps, e.g. `matmul`.
    var name: String { get }
    /// Runs the op on evaluated inputs, writing every output buffer completely.
    func execute(_ context: KernelContext)
    /// Vector-Jacobian product: one entry per input, nil where the input gets no gradient.
    func gradient(_ context: GradientContext) -> [Tensor?]
    /// If set, output 0 shares storage with this input (a view such as reshape): no kernel runs.
    var aliasedInput: Int? { get }
    /// Inputs that are only read element-for-element at the same index as the output is written, so the
    /// executor may hand the input's buffer to the output when this node is its last reader.
    var inPlaceCandidates: [Int] { get }
}

extension Op {
    public var aliasedInput: Int? { nil }
    public var inPlaceCandidates: [Int] { [] }
}

/// Ops whose output carries no gradient (comparisons, random numbers, constants).
public protocol NonDifferentiableOp: Op {}
extension NonDifferentiableOp {
    public func gradient(_ context: GradientContext) -> [Tensor?] { context.inputs.map { _ in nil } }
}
