// A trainable value: a leaf tensor whose storage the optimizer updates in place.

/// A named, trainable leaf. Modules read `tensor` when building a graph; optimizers write its storage.
public final class Parameter: @unchecked Sendable {
    public private(set) var tensor: Tensor

    /// Wraps `value`, evaluating it into fresh storage if it is not a leaf yet.
    public init(_ value: Tensor) {
        self.tensor = value.node.isLeaf ? value : value.materialized()
    }

    public var shape: [Int] { tensor.shape }
    public var dtype: DType { tensor.dtype }
    public var count: Int { tensor.count }
    public var buffer: Buffer { tensor.value! }

    /// Replaces the value with `values` (same shape), e.g. from a checkpoint.
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "[parameter] \(values.count) values for shape \(shape)")
        switch dtype {
        case .float32: values.withUnsafeBufferPointer { buffer.pointer(as: Float.self).update(from: $0.baseAddress!, count: count) }
        case .float64: let p = buffer.pointer(as: Double.self); for i in 0..<count { p[i] = Double(values[i]) }
        }
    }

    /// Copies another parameter's value (same shape and dtype).
    public func assign(from other: Parameter) {
        precondition(other.shape == shape && other.dtype == dtype, "[parameter] cannot copy \(other.shape) into \(shape)")
        buffer.raw.copyMemory(from: other.buffer.raw, byteCount: count * dtype.byteSize)
    }
}
