// Tensors with their own storage that checkpoints save: trainable parameters, and the state kept beside them
// (batch-norm running statistics, optimiser moments), which is never trained and so has a type of its own.

/// A leaf tensor with its own storage. Graphs read `tensor`; optimisers, statistics updates and checkpoints
/// write the storage in place. Use `Parameter` or `StateTensor`.
public class StoredTensor: @unchecked Sendable {
    public private(set) var tensor: Tensor

    /// Wraps `value`, evaluating it into fresh storage if it is not a leaf yet.
    public init(_ value: Tensor) {
        self.tensor = value.node.isLeaf ? value : value.materialized()
    }

    public var shape: [Int] { tensor.shape }
    public var dtype: DType { tensor.dtype }
    public var count: Int { tensor.count }
    public var buffer: Buffer { tensor.value! }

    /// Replaces the value with `values` (same count), e.g. from a checkpoint.
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "[stored tensor] \(values.count) values for shape \(shape)")
        switch dtype {
        case .float32: values.withUnsafeBufferPointer { buffer.pointer(as: Float.self).update(from: $0.baseAddress!, count: count) }
        case .float64: let p = buffer.pointer(as: Double.self); for i in 0..<count { p[i] = Double(values[i]) }
        }
    }

    /// Copies another stored tensor's value (same shape and dtype).
    public func assign(from other: StoredTensor) {
        precondition(other.shape == shape && other.dtype == dtype, "[stored tensor] cannot copy \(other.shape) into \(shape)")
        buffer.raw.copyMemory(from: other.buffer.raw, byteCount: count * dtype.byteSize)
    }
}

/// A named, trainable leaf: what modules register and optimisers update.
public final class Parameter: StoredTensor, @unchecked Sendable {}

/// A stored tensor that is not trained: a module's buffer (running statistics) or an optimiser's state.
public final class StateTensor: StoredTensor, @unchecked Sendable {}
