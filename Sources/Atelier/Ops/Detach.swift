// Stop-gradient and host-side computations inside an evaluation.

/// Identity in the forward pass; blocks gradients.
struct DetachOp: NonDifferentiableOp {
    var name: String { "detach" }
    var aliasedInput: Int? { 0 }
    func execute(_ c: KernelContext) {}
}

/// Host values handed to and returned from a `hostOp` closure: shape and row-major Doubles.
public struct HostArray: Sendable {
    public var shape: [Int]
    public var values: [Double]
    public init(shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "[hostOp] \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }
}

/// A Swift closure run by the executor (e.g. an assignment solver); no gradient.
struct HostOp: NonDifferentiableOp {
    let label: String
    let body: @Sendable ([HostArray]) -> [HostArray]
    var name: String { "host:\(label)" }
    func execute(_ c: KernelContext) {
        let args: [HostArray] = zip(c.inputs, c.inputShapes).map { buffer, shape in
            let n = shape.reduce(1, *)
            switch c.dtype {
            case .float32: let p = buffer.pointer(as: Float.self); return HostArray(shape: shape, values: (0..<n).map { Double(p[$0]) })
            case .float64: let p = buffer.pointer(as: Double.self); return HostArray(shape: shape, values: (0..<n).map { p[$0] })
            }
        }
        let results = body(args)
        precondition(results.count == c.outputs.count, "[hostOp \(label)] returned \(results.count) arrays, declared \(c.outputs.count)")
        for (i, r) in results.enumerated() {
            precondition(r.shape == c.outputShapes[i], "[hostOp \(label)] output \(i) has shape \(r.shape), declared \(c.outputShapes[i])")
            switch c.dtype {
            case .float32: let p = c.outputs[i].pointer(as: Float.self); for (j, v) in r.values.enumerated() { p[j] = Float(v) }
            case .float64: let p = c.outputs[i].pointer(as: Double.self); for (j, v) in r.values.enumerated() { p[j] = v }
            }
        }
    }
}

extension Tensor {
    /// The same values with no gradient flowing back.
    public func detached() -> Tensor { Tensor.make(DetachOp(), [self], shape: shape, dtype: dtype) }

    /// Runs `body` on the evaluated `inputs` during an evaluation, producing tensors of `outputShapes`.
    public static func hostOp(_ label: String, _ inputs: [Tensor], outputShapes: [[Int]], dtype: DType = .float32,
                              _ body: @escaping @Sendable ([HostArray]) -> [HostArray]) -> [Tensor] {
        shapeCheck(inputs.allSatisfy { $0.dtype == dtype }, "hostOp", "inputs must all be \(dtype)")
        return Tensor.make(HostOp(label: label, body: body), inputs, outputs: outputShapes.map { TensorSpec(shape: $0, dtype: dtype) })
    }
}
