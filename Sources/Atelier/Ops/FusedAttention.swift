// The fused attention kernels (CKernels) behind `Tensor.attention` for float32. The forward saves the row
// log-sum-exp; the backward recomputes scores tile by tile. Both are `CompositeOp`s: a second-order request
// that reaches the backward node differentiates the VJP of `compositeAttention` instead.
import CKernels

/// Inputs q [BH.., Tq, D], k, v [BH.., Tk, D], optional bias [H, Tq, Tk]; outputs O and LSE [BH, Tq].
/// `dropout` drops attention probabilities (the mask DropoutOp would apply to the [BH.., Tq, Tk] probabilities).
struct FusedAttentionOp: CompositeOp {
    let heads: Int
    let scale: Double
    let hasBias: Bool
    var dropout: DropoutOp? = nil
    var name: String { "attention" }

    func execute(_ c: KernelContext) {
        let qs = c.inputShapes[0], ks = c.inputShapes[1]
        let (tq, d, tk) = (qs[qs.count - 2], qs[qs.count - 1], ks[ks.count - 2])
        let bh = qs.dropLast(2).reduce(1, *)
        let q = c.inputs[0].pointer(as: Float.self), k = c.inputs[1].pointer(as: Float.self), v = c.inputs[2].pointer(as: Float.self)
        let bias: UnsafeMutablePointer<Float>? = hasBias ? c.inputs[3].pointer(as: Float.self) : nil
        let o = c.outputs[0].pointer(as: Float.self), lse = c.outputs[1].pointer(as: Float.self)
        let (h, s) = (Int64(heads), Float(scale))
        withAttentionDropout(dropout) { drop in
            parallelFor(bh) { r in
                ck_attention_forward_f32(o, lse, q, k, v, bias, drop, h, Int64(tq), Int64(tk), Int64(d), s, Int64(r.lowerBound), Int64(r.upperBound))
            }
        }
    }

    /// O as `compositeAttention`, and LSE = log Σ exp(logits) per row, flattened to [BH, Tq].
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let (q, k, bias) = (inputs[0], inputs[1], hasBias ? inputs[3] : nil)
        var logits = q.matmul(k, transB: true, alpha: scale)
        if let bias { logits = logits + bias }
        let m = logits.max(axes: [-1], keepDims: true).detached()
        let lse = (logits - m).exp().sum(axes: [-1], keepDims: true).log() + m
        let o = compositeAttention(q: q, k: k, v: inputs[2], bias: bias, scale: scale, dropout: dropout)
        return [o, lse.reshaped([q.shape.dropLast(2).reduce(1, *), q.shape[q.rank - 2]])]
    }

    /// The fused backward kernel; nothing downstream reads LSE, so its cotangent is never set.
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let (q, k, v) = (c.inputs[0], c.inputs[1], c.inputs[2])
        let bias = hasBias ? c.inputs[3] : nil
        guard let g = c.cotangents[0] else { return c.inputs.map { _ in nil } }
        var outs = [q.spec, k.spec, v.spec]
        if let bias { outs.append(bias.spec) }
        let grads = Tensor.make(FusedAttentionBackwardOp(heads: heads, scale: scale, hasBias: hasBias, dropout: dropout),
                                c.inputs + [c.outputs[0], c.outputs[1], g], outputs: outs)
        return (0..<c.inputs.count).map { c.needsGradient[$0] ? grads[$0] : nil }
    }
}

/// Inputs q, k, v, [bias], O, LSE, dO; outputs dq, dk, dv, [dbias]. Slices over BH run in parallel; each
/// slice accumulates d(bias) into its own partial, and partials are summed in slice order (deterministic).
struct FusedAttentionBackwardOp: CompositeOp {
    let heads: Int
    let scale: Double
    let hasBias: Bool
    var dropout: DropoutOp? = nil
    var name: String { "attentionBackward" }

    func execute(_ c: KernelContext) {
        let qs = c.inputShapes[0], ks = c.inputShapes[1]
        let (tq, d, tk) = (qs[qs.count - 2], qs[qs.count - 1], ks[ks.count - 2])
        let bh = qs.dropLast(2).reduce(1, *)
        let p = { (i: Int) in c.inputs[i].pointer(as: Float.self) }
        let (q, k, v) = (p(0), p(1), p(2))
        let base = hasBias ? 4 : 3
        let bias: UnsafeMutablePointer<Float>? = hasBias ? p(3) : nil
        let (o, lse, dout) = (p(base), p(base + 1), p(base + 2))
        let (dq, dk, dv) = (c.outputs[0].pointer(as: Float.self), c.outputs[1].pointer(as: Float.self), c.outputs[2].pointer(as: Float.self))
        let (h, s) = (Int64(heads), Float(scale))
        let slices = min(Threading.count, bh)
        let biasCount = heads * tq * tk
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: hasBias ? slices * biasCount : 1)
        defer { partials.deallocate() }
        if hasBias { partials.update(repeating: 0, count: slices * biasCount) }
        let part = UncheckedSendable(partials)
        let hasBias = self.hasBias
        withAttentionDropout(dropout) { drop in
            parallelFor(slices) { r in
                for sIdx in r {
                    let lo = bh * sIdx / slices, hi = bh * (sIdx + 1) / slices
                    ck_attention_backward_f32(dq, dk, dv, hasBias ? part.value + sIdx * biasCount : nil, q, k, v, bias, drop, o, dout, lse,
                                              h, Int64(tq), Int64(tk), Int64(d), s, Int64(lo), Int64(hi))
                }
            }
        }
        if hasBias {
            let db = c.outputs[3].pointer(as: Float.self)
            db.update(from: partials, count: biasCount)
            for sIdx in 1..<max(slices, 1) {
                let src = partials + sIdx * biasCount
                parallelFor(biasCount, grain: 65536) { r in for i in r { db[i] += src[i] } }
            }
        }
    }

    /// The VJP of `compositeAttention` for dO; O and LSE are not used (the composite recomputes the scores).
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let primals = Array(inputs.prefix(hasBias ? 4 : 3)), dout = inputs[inputs.count - 1]
        let (scale, dropout) = (self.scale, self.dropout)
        let grads = vectorJacobianProduct({ x in
            [compositeAttention(q: x[0], k: x[1], v: x[2], bias: x.count > 3 ? x[3] : nil, scale: scale, dropout: dropout)]
        }, at: primals, cotangents: [dout])
        return zip(primals, grads).map { $1 ?? Tensor.zeros(like: $0) }
    }
}

/// softmax(q·kᵀ·scale + bias)·v from primitive ops (differentiable to any order), with `dropout` applied to the
/// probabilities.
func compositeAttention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor?, scale: Double, dropout: DropoutOp? = nil) -> Tensor {
    var logits = q.matmul(k, transB: true, alpha: scale)                      // [..., Tq, Tk]
    if let bias { logits = logits + bias }
    var p = logits.softmax()
    if let dropout { p = Tensor.make(dropout, [p], shape: p.shape, dtype: p.dtype) }
    return p.matmul(v)                                                        // [..., Tq, D]
}

/// Runs `body` with the kernels' dropout descriptor (nil without dropout).
private func withAttentionDropout(_ dropout: DropoutOp?, _ body: (UnsafePointer<ck_attention_dropout>?) -> Void) {
    guard var descriptor = dropout?.attentionDropout else { return body(nil) }
    withUnsafePointer(to: &descriptor) { body($0) }
}

/// Whether the fused kernel can run this attention, and with how many bias heads.
func fusedAttentionHeads(q: Tensor, bias: Tensor?) -> Int? {
    guard q.dtype == .float32, ExecutionContext.current.fusedAttention else { return nil }
    let d = q.shape.last!
    guard d >= 1 && d <= 256 else { return nil }
    guard let bias else { return 1 }
    let tq = q.shape[q.rank - 2]
    if bias.rank == 2 { return nil }
    // [H, Tq, Tk] shared across the batch, with q laid out [..., H, Tq, D].
    guard bias.rank == 3, q.rank >= 3, bias.shape[0] == q.shape[q.rank - 3], bias.shape[1] == tq else { return nil }
    return bias.shape[0]
}
