// Fused ops with a composite definition, as MLX's fast primitives carry a fallback: the kernel is what runs, and
// the same function written with differentiable engine ops is what gets differentiated where no hand-written rule
// exists. Fused backward ops rely on this: the first-order gradient of a fused op is a fast fused backward node,
// and when a second-order request reaches that node, its composite (the VJP of the forward's composite) is
// differentiated instead. So no caller has to say in advance which order it will need.

/// An op with a fused kernel whose function can also be built from differentiable engine ops.
public protocol CompositeOp: Op {
    /// The op's outputs built from `inputs` with differentiable engine ops; equal to `execute` up to rounding.
    func composite(_ inputs: [Tensor]) -> [Tensor]
}

extension CompositeOp {
    /// Differentiates the composite. Ops with a faster hand-written rule implement `gradient` themselves.
    public func gradient(_ c: GradientContext) -> [Tensor?] {
        vectorJacobianProduct(composite, at: c.inputs, cotangents: c.cotangents, needsGradient: c.needsGradient)
    }
}

/// Gradients of Σ_k ⟨f(primals)_k, cotangents_k⟩ w.r.t. each primal whose `needsGradient` is set (nil for the
/// others and where f does not depend on a primal). The primals are independent variables here even if one was
/// computed from another, and a tensor passed twice gets each use's share, as the outer backward pass expects.
public func vectorJacobianProduct(_ f: ([Tensor]) -> [Tensor], at primals: [Tensor], cotangents: [Tensor?],
                                  needsGradient: [Bool]? = nil) -> [Tensor?] {
    let needs = needsGradient ?? primals.map { _ in true }
    precondition(needs.count == primals.count, "[vectorJacobianProduct] \(needs.count) flags for \(primals.count) primals")
    // A repeated primal gets a view of its own, so the two uses are told apart (views run no kernel).
    var seen = Set<Int>()
    let variables = primals.map { p -> Tensor in
        let fresh = seen.insert(p.node.id &* 16 &+ p.index).inserted
        return fresh ? p : Tensor.make(ReshapeOp(), [p], shape: p.shape, dtype: p.dtype)
    }
    let outputs = f(variables)
    precondition(outputs.count == cotangents.count, "[vectorJacobianProduct] \(outputs.count) outputs for \(cotangents.count) cotangents")
    let seeds = zip(outputs, cotangents).compactMap { o, c -> (output: Tensor, seed: Tensor)? in
        guard let c else { return nil }
        precondition(c.shape == o.shape, "[vectorJacobianProduct] cotangent \(c.shape) for output \(o.shape)")
        return (o, c)
    }
    let wanted = zip(variables, needs).filter { $1 }.map(\.0)
    let grads = backpropagate(seeds: seeds, wrt: wanted, stopAt: variables)
    var next = grads.makeIterator()
    return needs.map { $0 ? next.next()! : nil }
}
