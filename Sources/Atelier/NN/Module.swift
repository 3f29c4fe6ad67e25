// The layer base class: children and parameters registered under PyTorch state_dict names.

/// A network layer. Subclasses register parameters, buffers and children in their initialiser so that
/// `namedParameters()` yields PyTorch-style names (`blocks.0.attn.qkv.weight`).
open class Module: @unchecked Sendable {
    public private(set) var ownParameters: [(String, Parameter)] = []
    public private(set) var ownBuffers: [(String, StateTensor)] = []
    public private(set) var children: [(String, Module)] = []
    /// Training mode (dropout active, batch norm uses batch statistics).
    public private(set) var training = true
    /// The arithmetic of this layer's matrix products (linear, convolution, attention projections): `.bf16` is
    /// mixed precision, the parameters and every other op staying fp32. Set on a whole network with
    /// `useMatmulPrecision`.
    public private(set) var matmulPrecision = MatmulPrecision.fp32

    public init() {}

    /// Registers a trainable parameter under `name`.
    @discardableResult
    public func register(_ name: String, _ p: Parameter) -> Parameter {
        ownParameters.append((name, p)); return p
    }
    /// Registers a non-trainable state tensor (e.g. running statistics), saved in checkpoints.
    @discardableResult
    public func registerBuffer(_ name: String, _ p: StateTensor) -> StateTensor {
        ownBuffers.append((name, p)); return p
    }
    /// Registers a child module under `name`.
    @discardableResult
    public func register<M: Module>(_ name: String, _ m: M) -> M {
        children.append((name, m)); return m
    }

    /// Every trainable parameter, depth first, with dotted names.
    public func namedParameters() -> [(String, Parameter)] {
        ownParameters + children.flatMap { name, child in child.namedParameters().map { ("\(name).\($0.0)", $0.1) } }
    }
    /// Every buffer, depth first, with dotted names.
    public func namedBuffers() -> [(String, StateTensor)] {
        ownBuffers + children.flatMap { name, child in child.namedBuffers().map { ("\(name).\($0.0)", $0.1) } }
    }
    /// Parameters and buffers: what a checkpoint stores.
    public func stateDict() -> [(String, StoredTensor)] {
        namedParameters().map { ($0.0, $0.1 as StoredTensor) } + namedBuffers().map { ($0.0, $0.1 as StoredTensor) }
    }

    public func parameters() -> [Parameter] { namedParameters().map(\.1) }
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Sets training mode on this module and all descendants.
    public func train(_ on: Bool = true) {
        training = on
        for (_, c) in children { c.train(on) }
    }
    public func eval() { train(false) }

    /// Sets the matrix-product precision of this module and all descendants.
    public func useMatmulPrecision(_ precision: MatmulPrecision) {
        matmulPrecision = precision
        for (_, c) in children { c.useMatmulPrecision(precision) }
    }

    /// Statistics updates (e.g. batch norm running stats) computed by the last forward pass; evaluate them
    /// with the step's other targets, then call `applyStatisticUpdates()`.
    open func pendingStatistics() -> [Tensor] { children.flatMap { $0.1.pendingStatistics() } }
    open func applyStatisticUpdates() { for (_, c) in children { c.applyStatisticUpdates() } }
    /// Replaces the pending batch statistics, in `pendingStatistics()` order (flattened), by other values,
    /// e.g. their average over data-parallel shards, before `applyStatisticUpdates`.
    open func replacePendingStatistics(_ values: inout ArraySlice<Double>) {
        for (_, c) in children { c.replacePendingStatistics(&values) }
    }

    /// Copies all parameter and buffer values from a module of the same structure.
    public func copyState(from other: Module) {
        let mine = stateDict(), theirs = other.stateDict()
        precondition(mine.count == theirs.count, "[module] copy between different structures")
        for ((n1, a), (n2, b)) in zip(mine, theirs) {
            precondition(n1 == n2, "[module] copy between different structures: \(n1) vs \(n2)")
            a.assign(from: b)
        }
    }
}

/// A list of modules registered as `0`, `1`, ….
public final class ModuleList<M: Module>: Module, @unchecked Sendable {
    public let items: [M]
    public init(_ items: [M]) {
        self.items = items
        super.init()
        for (i, m) in items.enumerated() { register("\(i)", m) }
    }
    public subscript(i: Int) -> M { items[i] }
    public var count: Int { items.count }
}
