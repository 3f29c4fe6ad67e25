// The user-facing handle: one output of one graph node. Cheap to copy; building expressions only records
// ops, and `evaluate` (or reading values) runs them.

/// A lazily evaluated n-dimensional array with a PyTorch-order shape (outermost dimension first).
public struct Tensor: @unchecked Sendable {
    public let node: Node
    public let index: Int

    init(node: Node, index: Int = 0) {
        self.node = node
        self.index = index
    }

    public var spec: TensorSpec { node.outputs[index] }
    public var shape: [Int] { spec.shape }
    public var dtype: DType { spec.dtype }
    public var rank: Int { spec.shape.count }
    public var count: Int { spec.count }

    /// Whether both are the same graph value (one output of one node), not merely equal values.
    public func isIdentical(to other: Tensor) -> Bool { node === other.node && index == other.index }

    /// The evaluated storage, if this tensor is a leaf or was a target of an evaluation.
    public var value: Buffer? { node.values[index] }

    /// Builds a node applying `op` to `inputs` with the given output specs.
    public static func make(_ op: any Op, _ inputs: [Tensor], outputs: [TensorSpec]) -> [Tensor] {
        let node = Node(op: op, inputs: inputs, outputs: outputs)
        return (0..<outputs.count).map { Tensor(node: node, index: $0) }
    }

    /// Builds a single-output node.
    public static func make(_ op: any Op, _ inputs: [Tensor], shape: [Int], dtype: DType) -> Tensor {
        make(op, inputs, outputs: [TensorSpec(shape: shape, dtype: dtype)])[0]
    }
}

// MARK: - Leaves

extension Tensor {
    /// A leaf holding a copy of `values` (converted to `dtype`).
    public init(shape: [Int], values: [Double], dtype: DType = .float32) {
        let spec = TensorSpec(shape: shape, dtype: dtype)
        precondition(shape.allSatisfy { $0 >= 0 }, "[tensor] negative dimension in \(shape)")
        precondition(values.count == spec.count, "[tensor] \(values.count) values for shape \(shape)")
        let buffer = Buffer(byteCount: spec.byteCount)
        switch dtype {
        case .float32:
            let p = buffer.pointer(as: Float.self)
            for i in 0..<values.count { p[i] = Float(values[i]) }
        case .float64:
            let p = buffer.pointer(as: Double.self)
            for i in 0..<values.count { p[i] = values[i] }
        }
        self.init(node: Node(op: nil, inputs: [], outputs: [spec], values: [buffer]))
    }

    /// A float32 leaf holding a copy of `values`.
    public init(shape: [Int], floats: [Float]) {
        let spec = TensorSpec(shape: shape, dtype: .float32)
        precondition(floats.count == spec.count, "[tensor] \(floats.count) values for shape \(shape)")
        let buffer = Buffer(byteCount: spec.byteCount)
        floats.withUnsafeBufferPointer { src in
            buffer.pointer(as: Float.self).update(from: src.baseAddress!, count: src.count)
        }
        self.init(node: Node(op: nil, inputs: [], outputs: [spec], values: [buffer]))
    }

    /// A leaf that adopts existing storage (no copy).
    public init(shape: [Int], dtype: DType, buffer: Buffer) {
        let spec = TensorSpec(shape: shape, dtype: dtype)
        precondition(buffer.byteCount >= spec.byteCount, "[tensor] buffer of \(buffer.byteCount) bytes for \(dtype) \(shape)")
        self.init(node: Node(op: nil, inputs: [], outputs: [spec], values: [buffer]))
    }

    /// A 0-d leaf.
    public init(scalar: Double, dtype: DType = .float32) {
        self.init(shape: [], values: [scalar], dtype: dtype)
    }
}

// MARK: - Reading values

extension Tensor {
    /// Evaluates (if needed) and returns the elements as Doubles in row-major order.
    public func doubles() -> [Double] {
        let buffer = evaluatedBuffer()
        switch dtype {
        case .float32:
            let p = buffer.pointer(as: Float.self)
            return (0..<count).map { Double(p[$0]) }
        case .float64:
            return Array(UnsafeBufferPointer(start: buffer.pointer(as: Double.self), count: count))
        }
    }

    /// Evaluates (if needed) and returns the elements as Floats in row-major order.
    public func floats() -> [Float] {
        let buffer = evaluatedBuffer()
        switch dtype {
        case .float32:
            return Array(UnsafeBufferPointer(start: buffer.pointer(as: Float.self), count: count))
        case .float64:
            let p = buffer.pointer(as: Double.self)
            return (0..<count).map { Float(p[$0]) }
        }
    }

    /// The single element of a one-element tensor.
    public func item() -> Double {
        precondition(count == 1, "[item] tensor of shape \(shape) has \(count) elements")
        return doubles()[0]
    }

    func evaluatedBuffer() -> Buffer {
        if let v = value { return v }
        evaluate([self])
        return value!
    }

    /// A new leaf holding this tensor's current value: cuts the graph (no gradient flows back).
    public func materialized() -> Tensor {
        let src = evaluatedBuffer()
        let copy = Buffer(byteCount: spec.byteCount)
        copy.raw.copyMemory(from: src.raw, byteCount: spec.byteCount)
        return Tensor(shape: shape, dtype: dtype, buffer: copy)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let kind = node.op?.name ?? "leaf"
        return "Tensor(\(kind), \(dtype), \(shape))"
    }
}
