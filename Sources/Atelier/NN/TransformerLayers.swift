// Attention layers: PyTorch's nn.MultiheadAttention (packed or separate projections) and the transformer
// layers built on it.

/// Multi-head attention on batch-first inputs `[B, T, E]`.
public final class MultiheadAttention: Module, @unchecked Sendable {
    public let embedDim: Int, heads: Int
    public let dropout: Double
    public let packed: Bool
    let inProjWeight: Parameter?, inProjBias: Parameter?
    let qProj: Linear?, kProj: Linear?, vProj: Linear?
    public let outProj: Linear
    let rng: RandomGenerator
    /// Off: one projection GEMM per part even where inputs are one tensor, the path tests compare against.
    var sharesProjections = true

    /// - Parameters:
    ///   - packed: one `in_proj_weight [3E, E]` (PyTorch) or separate `q_proj`, `k_proj`, `v_proj`.
    public init(embedDim: Int, heads: Int, dropout: Double = 0, packed: Bool = true, dtype: DType = .float32, rng: RandomGenerator) {
        shapeCheck(embedDim % heads == 0, "MultiheadAttention", "embedding \(embedDim) not divisible by \(heads) heads")
        self.embedDim = embedDim
        self.heads = heads
        self.dropout = dropout
        self.packed = packed
        self.rng = rng
        if packed {
            inProjWeight = Parameter(Initializer.xavierUniform([3 * embedDim, embedDim], fanIn: embedDim, fanOut: 3 * embedDim, dtype: dtype, rng: rng))
            inProjBias = Parameter(Tensor.zeros([3 * embedDim], dtype: dtype))
            qProj = nil; kProj = nil; vProj = nil
        } else {
            inProjWeight = nil; inProjBias = nil
            qProj = Linear(embedDim, embedDim, dtype: dtype, rng: rng)
            kProj = Linear(embedDim, embedDim, dtype: dtype, rng: rng)
            vProj = Linear(embedDim, embedDim, dtype: dtype, rng: rng)
        }
        outProj = Linear(embedDim, embedDim, dtype: dtype, rng: rng)
        super.init()
        if let w = inProjWeight, let b = inProjBias { register("in_proj_weight", w); register("in_proj_bias", b) }
        if let q = qProj, let k = kProj, let v = vProj { register("q_proj", q); register("k_proj", k); register("v_proj", v) }
        register("out_proj", outProj)
    }

    /// The input projection's weight and bias rows for `parts` (0 query, 1 key, 2 value), `[n·E, E]` and `[n·E]`.
    /// Separate projections are concatenated: copying the weights costs far less than the one GEMM saves.
    private func projection(_ parts: Range<Int>) -> (weight: Tensor, bias: Tensor) {
        let e = embedDim
        if let w = inProjWeight, let b = inProjBias {
            return (w.tensor.sliced(axis: 0, parts.lowerBound * e, parts.upperBound * e),
                    b.tensor.sliced(axis: 0, parts.lowerBound * e, parts.upperBound * e))
        }
        let layers = [qProj!, kProj!, vProj!][parts]
        return (Tensor.concat(layers.map(\.weight.tensor), axis: 0), Tensor.concat(layers.map { $0.bias!.tensor }, axis: 0))
    }

    /// `x` `[B, T, E]` projected by `parts`, each split into heads `[B, H, T, Dh]`.
    private func projectHeads(_ x: Tensor, _ parts: Range<Int>) -> [Tensor] {
        let (w, b) = projection(parts)
        let y = x.linear(weight: w, bias: b, precision: matmulPrecision)                  // [B, T, n·E]
        return y.reshaped([x.shape[0], x.shape[1], parts.count, heads, embedDim / heads])
            .permutedParts([2, 0, 3, 1, 4])                                                // n × [B, H, T, Dh]
    }

    /// q, k, v `[B, H, T, Dh]`. Inputs that are one tensor (self-attention; key and value of cross-attention)
    /// share one GEMM with N = 3E or 2E, which OpenBLAS runs faster than one GEMM per part with N = E, and the
    /// backward then has one dX GEMM (no sum of per-part dX) and one dW GEMM for them too.
    private func projectQKV(_ query: Tensor, _ key: Tensor, _ value: Tensor) -> (Tensor, Tensor, Tensor) {
        let kv = sharesProjections && key.isIdentical(to: value)
        if kv && query.isIdentical(to: key) {
            let p = projectHeads(query, 0..<3)
            return (p[0], p[1], p[2])
        }
        let q = projectHeads(query, 0..<1)[0]
        if kv {
            let p = projectHeads(key, 1..<3)
            return (q, p[0], p[1])
        }
        return (q, projectHeads(key, 1..<2)[0], projectHeads(value, 2..<3)[0])
    }

    /// Attends from `query` `[B, Tq, E]` to `key`/`value` `[B, Tk, E]`, with an optional additive bias
    /// broadcastable to `[B, H, Tq, Tk]`.
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, bias: Tensor? = nil) -> Tensor {
        shapeCheck(query.rank == 3 && query.shape[2] == embedDim && key.shape == value.shape && key.shape[2] == embedDim,
                   "MultiheadAttention", "query \(query.shape), key \(key.shape), value \(value.shape) for embedding \(embedDim)")
        let (q, k, v) = projectQKV(query, key, value)
        let o = Tensor.attention(q: q, k: k, v: v, bias: bias, dropout: training ? dropout : 0, rng: rng)
        let b = query.shape[0], t = query.shape[1]
        return outProj(o.permuted([0, 2, 1, 3]).reshaped([b, t, embedDim]))
    }
}

/// PyTorch `nn.TransformerEncoderLayer` (post-norm, ReLU) on batch-first input.
public final class TransformerEncoderLayer: Module, @unchecked Sendable {
    public let selfAttn: MultiheadAttention
    public let linear1: Linear, linear2: Linear
    public let norm1: LayerNorm, norm2: LayerNorm
    let dropout: Double
    let rng: RandomGenerator
    public init(dModel: Int, heads: Int, feedForward: Int = 2048, dropout: Double = 0.1, dtype: DType = .float32, rng: RandomGenerator) {
        selfAttn = MultiheadAttention(embedDim: dModel, heads: heads, dropout: dropout, dtype: dtype, rng: rng)
        linear1 = Linear(dModel, feedForward, dtype: dtype, rng: rng)
        linear2 = Linear(feedForward, dModel, dtype: dtype, rng: rng)
        norm1 = LayerNorm(dModel, dtype: dtype)
        norm2 = LayerNorm(dModel, dtype: dtype)
        self.dropout = dropout
        self.rng = rng
        super.init()
        register("self_attn", selfAttn)
        register("linear1", linear1)
        register("linear2", linear2)
        register("norm1", norm1)
        register("norm2", norm2)
    }
    func drop(_ x: Tensor) -> Tensor { training ? x.dropout(dropout, rng: rng) : x }
    /// dropout(relu(x)) as one op when training (the same mask as the two ops).
    func activate(_ x: Tensor) -> Tensor { training ? x.reluDropout(dropout, rng: rng) : x.relu() }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = norm1(x + drop(selfAttn(x, x, x)))
        return norm2(h + drop(linear2(activate(linear1(h)))))
    }
}

/// PyTorch `nn.TransformerDecoderLayer` (post-norm, ReLU) on batch-first input.
public final class TransformerDecoderLayer: Module, @unchecked Sendable {
    public let selfAttn: MultiheadAttention, crossAttn: MultiheadAttention
    public let linear1: Linear, linear2: Linear
    public let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
    let dropout: Double
    let rng: RandomGenerator
    public init(dModel: Int, heads: Int, feedForward: Int = 2048, dropout: Double = 0.1, dtype: DType = .float32, rng: RandomGenerator) {
        selfAttn = MultiheadAttention(embedDim: dModel, heads: heads, dropout: dropout, dtype: dtype, rng: rng)
        crossAttn = MultiheadAttention(embedDim: dModel, heads: heads, dropout: dropout, dtype: dtype, rng: rng)
        linear1 = Linear(dModel, feedForward, dtype: dtype, rng: rng)
        linear2 = Linear(feedForward, dModel, dtype: dtype, rng: rng)
        norm1 = LayerNorm(dModel, dtype: dtype)
        norm2 = LayerNorm(dModel, dtype: dtype)
        norm3 = LayerNorm(dModel, dtype: dtype)
        self.dropout = dropout
        self.rng = rng
        super.init()
        register("self_attn", selfAttn)
        register("multihead_attn", crossAttn)
        register("linear1", linear1)
        register("linear2", linear2)
        register("norm1", norm1)
        register("norm2", norm2)
        register("norm3", norm3)
    }
    func drop(_ x: Tensor) -> Tensor { training ? x.dropout(dropout, rng: rng) : x }
    /// dropout(relu(x)) as one op when training (the same mask as the two ops).
    func activate(_ x: Tensor) -> Tensor { training ? x.reluDropout(dropout, rng: rng) : x.relu() }
    public func callAsFunction(_ x: Tensor, memory: Tensor) -> Tensor {
        let h1 = norm1(x + drop(selfAttn(x, x, x)))
        let h2 = norm2(h1 + drop(crossAttn(h1, memory, memory)))
        return norm3(h2 + drop(linear2(activate(linear1(h2)))))
    }
}

/// Pre-norm ViT block: x += Attn(LN(x)); x += MLP(LN(x)), with GELU and a packed `qkv` projection.
/// Parameter names follow timm (`norm1`, `attn.qkv`, `attn.proj`, `norm2`, `mlp.fc1`, `mlp.fc2`).
public final class ViTBlock: Module, @unchecked Sendable {
    public final class SelfAttention: Module, @unchecked Sendable {
        public let qkv: Linear, proj: Linear
        public let heads: Int
        init(dim: Int, heads: Int, qkvBias: Bool, dtype: DType, rng: RandomGenerator) {
            qkv = Linear(dim, 3 * dim, bias: qkvBias, dtype: dtype, rng: rng)
            proj = Linear(dim, dim, dtype: dtype, rng: rng)
            self.heads = heads
            super.init()
            register("qkv", qkv)
            register("proj", proj)
        }
        /// `x` `[B, N, C]`, optional logit bias broadcastable to `[B, H, N, N]`.
        public func callAsFunction(_ x: Tensor, bias: Tensor? = nil) -> Tensor {
            let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
            let parts = qkv(x).reshaped([b, n, 3, heads, c / heads]).permutedParts([2, 0, 3, 1, 4])  // 3 × [B, H, N, Dh]
            let o = Tensor.attention(q: parts[0], k: parts[1], v: parts[2], bias: bias)
            return proj(o.permuted([0, 2, 1, 3]).reshaped([b, n, c]))
        }
    }
    public final class MLP: Module, @unchecked Sendable {
        public let fc1: Linear, fc2: Linear
        init(dim: Int, hidden: Int, dtype: DType, rng: RandomGenerator) {
            fc1 = Linear(dim, hidden, dtype: dtype, rng: rng)
            fc2 = Linear(hidden, dim, dtype: dtype, rng: rng)
            super.init()
            register("fc1", fc1)
            register("fc2", fc2)
        }
        public func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).gelu()) }
    }
    public let norm1: LayerNorm, attn: SelfAttention, norm2: LayerNorm, mlp: MLP
    public init(dim: Int, heads: Int, mlpRatio: Int = 4, qkvBias: Bool = false, dtype: DType = .float32, rng: RandomGenerator) {
        shapeCheck(dim % heads == 0, "ViTBlock", "dimension \(dim) not divisible by \(heads) heads")
        norm1 = LayerNorm(dim, dtype: dtype)
        attn = SelfAttention(dim: dim, heads: heads, qkvBias: qkvBias, dtype: dtype, rng: rng)
        norm2 = LayerNorm(dim, dtype: dtype)
        mlp = MLP(dim: dim, hidden: dim * mlpRatio, dtype: dtype, rng: rng)
        super.init()
        register("norm1", norm1)
        register("attn", attn)
        register("norm2", norm2)
        register("mlp", mlp)
    }
    public func callAsFunction(_ x: Tensor, bias: Tensor? = nil) -> Tensor {
        let h = x + attn(norm1(x), bias: bias)
        return h + mlp(norm2(h))
    }
}
