// A node of the lazy graph: one op applied to input tensors, or a leaf holding storage.
import Foundation

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

    private static let counterLock = NSLock()
    nonisolated(unsafe) private static var counter = 0

    static func nextID() -> Int {
        counterLock.lock(); defer { counterLock.unlock() }
        counter += 1
        return counter
    }

    init(op: (any Op)?, inputs: [Tensor], outputs: [TensorSpec], values: [Buffer?]? = nil) {
        self.id = Node.nextID()
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.values = values ?? Array(repeating: nil, count: outputs.count)
    }

    public var isLeaf: Bool { op == nil }
}
