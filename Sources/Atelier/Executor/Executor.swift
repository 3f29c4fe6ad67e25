// Runs the needed part of the graph once, in topological order, handing each intermediate buffer back
// to the pool after its last reader and reusing an input's buffer in place where an op allows it.
import Dispatch
import CKernels

/// What an evaluation will do: its node order and the bytes it keeps alive at worst.
public struct ExecutionPlan {
    /// Nodes to run, inputs before readers.
    public let nodes: [Node]
    /// Highest sum of live intermediate bytes at any point (targets included, leaves excluded).
    public let peakBytes: Int
    /// Sum of the sizes of every intermediate value (what a no-reuse executor would hold).
    public let totalBytes: Int
}

@inline(__always) private func key(_ t: Tensor) -> Int { t.node.id &* 16 &+ t.index }

private struct Schedule {
    var order: [Node] = []
    /// Storage key of every (node, output) that runs (alias outputs map to their source's storage).
    var storageOf: [Int: Int] = [:]
    /// Index in `order` of the last reader of each storage key.
    var lastUse: [Int: Int] = [:]
    /// Output keys that receive their input's storage in place (output key → input storage key).
    var inPlace: [Int: Int] = [:]
    var pinned: Set<Int> = []
    var peak = 0
    var total = 0
}

private func schedule(_ targets: [Tensor]) -> Schedule {
    var s = Schedule()
    // Collect nodes that must run: a node runs if some output it must supply has no value.
    var needed: [Int: Node] = [:]
    var stack: [Tensor] = targets.filter { $0.value == nil }
    while let t = stack.popLast() {
        if needed[t.node.id] != nil { continue }
        needed[t.node.id] = t.node
        for input in t.node.inputs where input.value == nil && needed[input.node.id] == nil {
            stack.append(input)
        }
    }
    s.order = needed.values.sorted { $0.id < $1.id }
    for t in targets { s.pinned.insert(key(t)) }

    func storage(_ t: Tensor) -> Int { s.storageOf[key(t)] ?? -1 }  // -1: a leaf or cached value
    for (i, node) in s.order.enumerated() {
        for input in node.inputs {
            let st = storage(input)
            if st >= 0 { s.lastUse[st] = i }
        }
        if let a = node.op?.aliasedInput {
            let src = node.inputs[a]
            let k = key(Tensor(node: node, index: 0))
            // A view of a leaf or cached value gets its own key that owns nothing (size 0).
            s.storageOf[k] = src.value != nil ? k : storage(src)
            if src.value == nil && s.pinned.contains(k) { s.pinned.insert(storage(src)) }
        } else {
            for o in 0..<node.outputs.count {
                let k = key(Tensor(node: node, index: o))
                s.storageOf[k] = k
            }
        }
    }
    // Targets that are views of intermediates keep their source alive.
    for t in targets where t.value == nil {
        let st = storage(t)
        if st >= 0 { s.pinned.insert(st) }
    }
    // Simulate lifetimes to plan in-place reuse and the peak.
    var live = 0
    var sizes: [Int: Int] = [:]
    var freedAt: [Int: [Int]] = [:]
    for (st, i) in s.lastUse where !s.pinned.contains(st) { freedAt[i, default: []].append(st) }
    for (i, node) in s.order.enumerated() {
        guard let op = node.op, op.aliasedInput == nil else { continue }
        var reused: Int? = nil
        for c in op.inPlaceCandidates {
            let input = node.inputs[c]
            let st = storage(input)
            guard st >= 0, !s.pinned.contains(st), s.lastUse[st] == i, sizes[st] == node.outputs[0].byteCount,
                  input.dtype == node.outputs[0].dtype,
                  node.inputs.enumerated().allSatisfy({ $0.offset == c || storage($0.element) != st }) else { continue }
            reused = st
            break
        }
        for o in 0..<node.outputs.count {
            let k = key(Tensor(node: node, index: o))
            let bytes = node.outputs[o].byteCount
            s.total += bytes
            if o == 0, let st = reused {
                s.inPlace[k] = st
                sizes[k] = bytes
                freedAt[i]?.removeAll { $0 == st }
                continue
            }
            sizes[k] = bytes
            live += bytes
        }
        s.peak = max(s.peak, live)
        for st in freedAt[i] ?? [] { live -= sizes[st] ?? 0 }
        // Outputs nobody reads and nobody asked for die at once.
        for o in 0..<node.outputs.count {
            let k = key(Tensor(node: node, index: o))
            if s.lastUse[k] == nil && !s.pinned.contains(k) { live -= sizes[k] ?? 0 }
        }
    }
    return s
}

/// Plans an evaluation of `targets` without running it.
public func plan(_ targets: [Tensor]) -> ExecutionPlan {
    let s = schedule(targets)
    return ExecutionPlan(nodes: s.order, peakBytes: s.peak, totalBytes: s.total)
}

/// Evaluates `targets` (and only what they need) in `context` (nil: `ExecutionContext.current`), storing their
/// values in their nodes.
/// - Returns: the plan that ran: its statistics (peak and total intermediate bytes) are this evaluation's.
@discardableResult
public func evaluate(_ targets: [Tensor], in context: ExecutionContext? = nil) -> ExecutionPlan {
    let context = context ?? .current
    return context.run { execute(targets, profiler: context.profiler) }
}

private func execute(_ targets: [Tensor], profiler: Profiler?) -> ExecutionPlan {
    let scheduleStart = profiler != nil ? DispatchTime.now().uptimeNanoseconds : 0
    let s = schedule(targets)
    profiler?.record("executor:schedule", seconds: Double(DispatchTime.now().uptimeNanoseconds - scheduleStart) / 1e9)
    // Kernels on this thread run with subnormals flushed, as parallelFor's slices do (see float_mode.c).
    let floatMode = ck_float_mode_flush_denormals()
    defer { ck_float_mode_restore(floatMode) }
    var buffers: [Int: Buffer] = [:]
    func buffer(of t: Tensor) -> Buffer {
        if let v = t.value { return v }
        return buffers[s.storageOf[key(t)]!]!
    }
    for (i, node) in s.order.enumerated() {
        let op = node.op!
        let inputs = node.inputs.map(buffer(of:))
        if let a = op.aliasedInput {
            let k = key(Tensor(node: node, index: 0))
            if s.storageOf[k] == k { buffers[k] = inputs[a] }
            if s.pinned.contains(k) { node.values[0] = inputs[a] }
        } else {
            var outputs: [Buffer] = []
            for o in 0..<node.outputs.count {
                let k = key(Tensor(node: node, index: o))
                let b = s.inPlace[k].flatMap { buffers[$0] } ?? Buffer(byteCount: node.outputs[o].byteCount)
                buffers[k] = b
                outputs.append(b)
            }
            let context = KernelContext(
                inputs: inputs, inputShapes: node.inputs.map(\.shape),
                outputs: outputs, outputShapes: node.outputs.map(\.shape),
                dtype: node.outputs[0].dtype)
            if let profiler {
                let t0 = DispatchTime.now().uptimeNanoseconds
                op.execute(context)
                profiler.record(profiler.byShape ? "\(op.name) \(node.inputs.map(\.shape)) → \(node.outputs[0].shape)" : op.name, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            } else {
                op.execute(context)
            }
            for o in 0..<node.outputs.count where s.pinned.contains(key(Tensor(node: node, index: o))) {
                node.values[o] = outputs[o]
            }
        }
        // Release storage whose last reader was this node.
        for input in node.inputs {
            if let st = s.storageOf[key(input)], st >= 0, s.lastUse[st] == i, !s.pinned.contains(st) {
                buffers[st] = nil
            }
        }
        for o in 0..<node.outputs.count {
            let k = key(Tensor(node: node, index: o))
            if s.lastUse[k] == nil && !s.pinned.contains(k) { buffers[k] = nil }
        }
    }
    return ExecutionPlan(nodes: s.order, peakBytes: s.peak, totalBytes: s.total)
}
