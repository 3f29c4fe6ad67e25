// Scaled dot-product attention, softmax(Q·Kᵀ·scale + bias)·V. This is the composite form; the fused
// kernel plugs in behind the same function for float32 first-order work.

extension Tensor {
    /// Attention over the last two dimensions.
    /// - Parameters:
    ///   - q: `[..., Tq, D]`; `k`, `v`: `[..., Tk, D]` with the same leading dimensions.
    ///   - bias: additive logits broadcastable to `[..., Tq, Tk]` (e.g. `[H, Tq, Tk]` relative-position bias).
    ///   - scale: logit scale, default `1/√D`.
    ///   - dropout: probability of dropping each attention weight (after the softmax, as PyTorch's attention
    ///     dropout); the mask is drawn from `rng`, which it needs when above 0.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor? = nil, scale: Double? = nil,
                                 dropout: Double = 0, rng: RandomGenerator? = nil) -> Tensor {
        shapeCheck(q.rank >= 2 && k.shape == v.shape && q.shape.dropLast(2) == k.shape.dropLast(2) && q.shape.last == k.shape.last,
                   "attention", "q \(q.shape), k \(k.shape), v \(v.shape) do not match ([..., Tq, D], [..., Tk, D])")
        let s = scale ?? 1 / Double(q.shape.last!).squareRoot()
        let logitShape = Array(q.shape.dropLast()) + [k.shape[k.rank - 2]]
        if let bias {
            shapeCheck(broadcastShape(bias.shape, logitShape) == logitShape && bias.dtype == q.dtype, "attention",
                       "bias \(bias.shape) does not broadcast to logits \(logitShape)")
        }
        shapeCheck(dropout >= 0 && dropout < 1 && (dropout == 0 || rng != nil), "attention",
                   "dropout \(dropout) must be in [0, 1), with a random generator when above 0")
        let mask = dropout > 0 ? DropoutOp(dropping: dropout, of: logitShape.reduce(1, *), rng: rng!) : nil
        if let heads = fusedAttentionHeads(q: q, bias: bias) {
            let bh = q.shape.dropLast(2).reduce(1, *)
            let outs = Tensor.make(FusedAttentionOp(heads: heads, scale: s, hasBias: bias != nil, dropout: mask),
                                   [q, k, v] + (bias.map { [$0] } ?? []),
                                   outputs: [q.spec, TensorSpec(shape: [bh, q.shape[q.rank - 2]], dtype: q.dtype)])
            return outs[0]
        }
        return compositeAttention(q: q, k: k, v: v, bias: bias, scale: s, dropout: mask)
    }
}
