// Reverse-mode autodiff as a graph transformation: walk the graph from the loss back to the inputs,
// call each op's gradient rule, and sum cotangents. The result is ordinary graph nodes, so it can be
// evaluated together with the loss in one executor call, or differentiated again. Fused ops need no
// flag for that: their first-order rules emit fused backward ops, and those differentiate their
// composite definitions (`CompositeOp`) when a higher order reaches them.

/// Gradients of a scalar (or seeded) tensor with respect to each tensor in `wrt`.
/// - Parameters:
///   - y: the tensor to differentiate; must have one element unless `seed` is given.
///   - wrt: tensors to differentiate with respect to (leaves or intermediates).
///   - seed: the cotangent of `y` (default: ones).
/// - Returns: one tensor per entry of `wrt`, shaped like it (zeros where `y` does not depend on it). The
///   results are differentiable again to any order.
public func gradients(of y: Tensor, wrt: [Tensor], seed: Tensor? = nil) -> [Tensor] {
    precondition(seed != nil || y.count == 1, "[gradients] output of shape \(y.shape) is not a scalar; pass a seed")
    if let seed { precondition(seed.shape == y.shape, "[gradients] seed shape \(seed.shape) differs from output \(y.shape)") }
    let grads = backpropagate(seeds: [(y, seed ?? Tensor.ones(like: y))], wrt: wrt, stopAt: [])
    return zip(wrt, grads).map { $1 ?? Tensor.zeros(like: $0) }
}

/// Before the composite mechanism callers had to ask for differentiable gradients; every gradient is now.
@available(*, deprecated, message: "gradients are always differentiable again; drop higherOrder:")
public func gradients(of y: Tensor, wrt: [Tensor], seed: Tensor? = nil, higherOrder: Bool) -> [Tensor] {
    gradients(of: y, wrt: wrt, seed: seed)
}

/// Σ_k ⟨outputs_k, seeds_k⟩ differentiated w.r.t. `wrt`: nil where no output depends on an entry.
/// The walk does not pass `wrt` or `stopAt` tensors' nodes, so a composite differentiated w.r.t. some of its
/// inputs never visits the (possibly large) graph behind the others.
func backpropagate(seeds: [(output: Tensor, seed: Tensor)], wrt: [Tensor], stopAt: [Tensor]) -> [Tensor?] {
    @inline(__always) func key(_ t: Tensor) -> Int { t.node.id &* 16 &+ t.index }
    let wrtNodes = Set(wrt.map { $0.node.id })
    let boundary = wrtNodes.union(stopAt.map { $0.node.id })

    // Nodes between the wrt tensors and the outputs: reachable backwards and depending on some wrt node.
    var reachable: [Int: Node] = [:]
    var stack = seeds.map { $0.output.node }
    while let n = stack.popLast() {
        if reachable[n.id] != nil { continue }
        reachable[n.id] = n
        if boundary.contains(n.id) { continue }
        for input in n.inputs where reachable[input.node.id] == nil { stack.append(input.node) }
    }
    let order = reachable.values.sorted { $0.id < $1.id }
    var depends = Set<Int>()
    for n in order where !boundary.contains(n.id) || wrtNodes.contains(n.id) {
        if wrtNodes.contains(n.id) || n.inputs.contains(where: { depends.contains($0.node.id) }) {
            depends.insert(n.id)
        }
    }

    // Contributions are collected per tensor and summed once, in one op, when the tensor's producer is reached.
    var contributions: [Int: [Tensor]] = [:]
    for (output, seed) in seeds { contributions[key(output), default: []].append(seed) }
    func cotangent(_ k: Int) -> Tensor? { contributions[k].map(Tensor.sum) }
    for n in order.reversed() {
        // Gradients flow into boundary nodes but not through them to their own inputs.
        guard depends.contains(n.id), !boundary.contains(n.id), let op = n.op else { continue }
        let outs = (0..<n.outputs.count).map { Tensor(node: n, index: $0) }
        let cots = outs.map { cotangent(key($0)) }
        if cots.allSatisfy({ $0 == nil }) { continue }
        let grads = op.gradient(GradientContext(inputs: n.inputs, outputs: outs, cotangents: cots,
                                                needsGradient: n.inputs.map { depends.contains($0.node.id) }))
        precondition(grads.count == n.inputs.count, "[gradients] \(op.name) returned \(grads.count) gradients for \(n.inputs.count) inputs")
        for (input, g) in zip(n.inputs, grads) {
            guard let g, depends.contains(input.node.id) else { continue }
            precondition(g.shape == input.shape, "[gradients] \(op.name) gave gradient \(g.shape) for input \(input.shape)")
            contributions[key(input), default: []].append(g)
        }
    }
    return wrt.map { cotangent(key($0)) }
}
