// A node of the lazy graph: one op applied to input tensors, or a leaf holding storage.
import Foundation
import Synchronization

/// Output description of a node.
public struct TensorSpec: Sendable, Equatable {
    public var shape: [Int]
    public var dtype: DType
    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
}

/// One vertex of the graph. Leaves have `op == nil` and always hold `values`; other nodes hold values only
/// after an evaluation that targeted them.
public final class Node: @unchecked Sendable {
    /// Creation order: inputs always have smaller ids, which gives a topological order for free.
    public let id: Int
    public let op: (any Op)?
    public let inputs: [Tensor]
    public let outputs: [TensorSpec]
    /// Evaluated storage per output (leaves: always set).
    public internal(set) var values: [Buffer?]

    /// Graphs are built on many threads at once (parallel tests); a node made from existing ones still gets a
    /// larger id, as one atomic's modification order follows happens-before.
    private static let counter = Atomic<Int>(0)

    static func nextID() -> Int { counter.wrappingAdd(1, ordering: .relaxed).newValue }

    init(op: (any Op)?, inputs: [Tensor], outputs: [TensorSpec], values: [Buffer?]? = nil) {
        self.id = Node.nextID()
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.values = values ?? Array(repeating: nil, count: outputs.count)
    }

    public var isLeaf: Bool { op == nil }
}
