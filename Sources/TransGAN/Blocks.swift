// TransGAN's transformer pieces: multi-head self-attention with a learned 2-D relative-position bias
// (Swin-style index), optional grid (window) partition and optional per-token noise injection; the pre-norm
// block around it. Parameter names follow the official state_dict (`norm1.norm.weight`, `attn.qkv.weight`,
// `attn.relative_position_bias_table`, `attn.noise_strength_1`, `mlp.fc1.weight`).
// Letters: B batch, N tokens, C channels, H heads, D = C/H head dim, W window side.
import Atelier

/// Swin's relative-position index for a W×W window, row-major tokens: idx(i, j) =
/// (r_i − r_j + W − 1)·(2W − 1) + (c_i − c_j + W − 1). Returns W⁴ entries (row i, column j).
public func relativePositionIndex(window w: Int) -> [Int] {
    let n = w * w
    var idx = [Int](repeating: 0, count: n * n)
    for i in 0..<n {
        let (ri, ci) = (i / w, i % w)
        for j in 0..<n {
            let (rj, cj) = (j / w, j % w)
            idx[i * n + j] = (ri - rj + w - 1) * (2 * w - 1) + (ci - cj + w - 1)
        }
    }
    return idx
}

/// How parameters start: the generator keeps PyTorch's Linear defaults; the discriminator uses
/// `_init_weights` (Linear weights trunc-normal .02, biases 0).
public enum TransGANInit: Sendable { case generator, discriminator }

func makeLinear(_ inF: Int, _ outF: Int, bias: Bool = true, init style: TransGANInit, dtype: DType, rng g: RandomGenerator) -> Linear {
    let layer = Linear(inF, outF, bias: bias, dtype: dtype, rng: g)
    if style == .discriminator {
        layer.weight.assignTensor(Initializer.truncatedNormal([outF, inF], std: 0.02, dtype: dtype, rng: g))
        if let b = layer.bias { b.assignTensor(Tensor.zeros([outF], dtype: dtype)) }
    }
    return layer
}

extension Parameter {
    /// Copies the values of `t` (same shape) into this parameter's storage.
    func assignTensor(_ t: Tensor) {
        precondition(t.shape == shape, "[parameter] \(t.shape) into \(shape)")
        let src = t.materialized().cast(to: dtype).materialized()
        buffer.raw.copyMemory(from: src.value!.raw, byteCount: count * dtype.byteSize)
    }
}

/// `CustomNorm` of the official code: a wrapper whose LayerNorm is registered as `norm`.
public final class NormWrapper: Module, @unchecked Sendable {
    public let norm: LayerNorm
    public init(_ dim: Int, dtype: DType) {
        norm = LayerNorm(dim, eps: 1e-5, dtype: dtype)
        super.init()
        register("norm", norm)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { norm(x) }
}

/// Multi-head self-attention over a square token grid with relative-position bias.
public final class GridAttention: Module, @unchecked Sendable {
    public let dim: Int, heads: Int
    /// Grid side of the input tokens (0 when the tokens are not a grid, e.g. with a class token).
    public let side: Int
    /// Window side; 0 disables the relative-position bias (and partitioning).
    public let window: Int
    public let qkv: Linear, proj: Linear
    public let biasTable: Parameter?
    public let noiseStrength: Parameter?
    let index: [Int]

    public init(dim: Int, heads: Int, side: Int, window: Int, noise: Bool, init style: TransGANInit, dtype: DType, rng g: RandomGenerator) {
        precondition(dim % heads == 0, "[GridAttention] dim \(dim) not divisible by \(heads) heads")
        precondition(window == 0 || side % window == 0, "[GridAttention] window \(window) does not divide grid \(side)")
        self.dim = dim; self.heads = heads; self.side = side; self.window = window
        qkv = makeLinear(dim, 3 * dim, bias: false, init: style, dtype: dtype, rng: g)
        proj = makeLinear(dim, dim, init: style, dtype: dtype, rng: g)
        if window > 0 {
            let t = (2 * window - 1) * (2 * window - 1)
            biasTable = Parameter(Initializer.truncatedNormal([t, heads], std: 0.02, dtype: dtype, rng: g))
            index = relativePositionIndex(window: window)
        } else {
            biasTable = nil
            index = []
        }
        noiseStrength = noise ? Parameter(Tensor.zeros([], dtype: dtype).materialized()) : nil
        super.init()
        if let s = noiseStrength { register("noise_strength_1", s) }
        register("qkv", qkv)
        register("proj", proj)
        if let t = biasTable { register("relative_position_bias_table", t) }
    }

    /// The bias `[H, W², W²]`: bias[h, i, j] = T[idx(i, j), h].
    public func relativeBias() -> Tensor? {
        guard let t = biasTable else { return nil }
        let w2 = window * window
        return t.tensor.transposed(0, 1)                                      // [H, (2W−1)²]
            .indexSelect(axis: 1, index)                                      // [H, W⁴]
            .reshaped([heads, w2, w2])
    }

    /// - Parameters:
    ///   - x: `[B, N, C]`.
    ///   - rng: draws the injected noise (D only).
    public func callAsFunction(_ x: Tensor, rng: RandomGenerator?) -> Tensor {
        var x = x
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        if let s = noiseStrength, let rng {
            // x ← x + n·s, n ~ N(0, 1) of shape (B, N, 1): one draw per token, shared over channels.
            x = x + Tensor.normal([b, n, 1], dtype: x.dtype, rng: rng) * s.tensor
        }
        let partitioned = window > 0 && window < side
        if partitioned { x = partition(x) }                                    // [B·nW, W², C]
        let bw = x.shape[0], t = x.shape[1], d = c / heads
        let qkvOut = qkv(x).reshaped([bw, t, 3, heads, d]).permutedParts([2, 0, 3, 1, 4])   // 3 × [B', H, T, D]
        let o = Tensor.attention(q: qkvOut[0], k: qkvOut[1], v: qkvOut[2], bias: relativeBias())  // [B', H, T, D]
        var y = proj(o.permuted([0, 2, 1, 3]).reshaped([bw, t, c]))          // [B', T, C]
        if partitioned { y = unpartition(y, batch: b) }                        // [B, N, C]
        return y
    }

    /// `[B, S², C]` → `[B·(S/W)², W², C]`: non-overlapping W×W windows, row-major inside and across windows.
    func partition(_ x: Tensor) -> Tensor {
        let (b, c) = (x.shape[0], x.shape[2]), m = side / window
        return x.reshaped([b, m, window, m, window, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([b * m * m, window * window, c])
    }

    /// Inverse of `partition`.
    func unpartition(_ x: Tensor, batch b: Int) -> Tensor {
        let c = x.shape[2], m = side / window
        return x.reshaped([b, m, m, window, window, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([b, side * side, c])
    }
}

/// Linear → GELU (exact) → Linear.
public final class MLP: Module, @unchecked Sendable {
    public let fc1: Linear, fc2: Linear
    public init(dim: Int, hidden: Int, init style: TransGANInit, dtype: DType, rng g: RandomGenerator) {
        fc1 = makeLinear(dim, hidden, init: style, dtype: dtype, rng: g)
        fc2 = makeLinear(hidden, dim, init: style, dtype: dtype, rng: g)
        super.init()
        register("fc1", fc1)
        register("fc2", fc2)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).gelu()) }
}

/// Pre-norm transformer block: x += Attn(LN(x)); x += MLP(LN(x)).
public final class TransGANBlock: Module, @unchecked Sendable {
    public let norm1: NormWrapper, attn: GridAttention, norm2: NormWrapper, mlp: MLP
    public init(dim: Int, heads: Int, side: Int, window: Int, mlpRatio: Int, noise: Bool, init style: TransGANInit,
                dtype: DType, rng g: RandomGenerator) {
        norm1 = NormWrapper(dim, dtype: dtype)
        attn = GridAttention(dim: dim, heads: heads, side: side, window: window, noise: noise, init: style, dtype: dtype, rng: g)
        norm2 = NormWrapper(dim, dtype: dtype)
        mlp = MLP(dim: dim, hidden: dim * mlpRatio, init: style, dtype: dtype, rng: g)
        super.init()
        register("norm1", norm1)
        register("attn", attn)
        register("norm2", norm2)
        register("mlp", mlp)
    }
    /// `[B, N, C]` → `[B, N, C]`.
    public func callAsFunction(_ x: Tensor, rng: RandomGenerator? = nil) -> Tensor {
        let x = x + attn(norm1(x), rng: rng)
        return x + mlp(norm2(x))
    }
}
