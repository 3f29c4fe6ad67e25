// The TransGAN generator (official `ViT_custom_rp`): z → Linear → bottom×bottom tokens (+ pos_embed_1) →
// stage blocks → pixel-shuffle ×2 (C÷4, + pos_embed_2) → blocks → pixel-shuffle ×2 (C÷4, + pos_embed_3) →
// blocks → 1×1 conv to image channels. No tanh: outputs are unbounded, data lives in [−1, 1]. With per-stage
// widths (`gDims`) a stage not ¼ as wide as the one before starts with a Linear to 4× its width before the
// shuffle (`upsample_proj_2`, `upsample_proj_3`; not in the official model). With `imageSkips` the first two
// stages also map tokens to an image (`to_image_1`, `to_image_2`); each is resized bilinearly ×2 and added to
// the next stage's image (StyleGAN2's skip generator, not in the official model either).
// Init (reference §1): Linear/LayerNorm PyTorch defaults, pos-embeds and bias tables trunc-normal .02,
// the output conv weight xavier-uniform (bias default).
import Atelier

/// `StageBlock`: a stage's blocks registered under `block`.
public final class StageBlock: Module, @unchecked Sendable {
    public let block: ModuleList<TransGANBlock>
    public init(_ blocks: [TransGANBlock]) {
        block = ModuleList(blocks)
        super.init()
        register("block", block)
    }
    public func callAsFunction(_ x: Tensor, rng: RandomGenerator? = nil) -> Tensor {
        block.items.reduce(x) { $1($0, rng: rng) }
    }
}

/// A one-entry `nn.Sequential` (`deconv.0`, `last_block.0`).
public final class Sequential1<M: Module>: Module, @unchecked Sendable {
    public let item: M
    public init(_ m: M) {
        item = m
        super.init()
        register("0", m)
    }
}

public final class Generator: Module, @unchecked Sendable {
    public let config: TransGANConfiguration
    public let l1: Linear
    public let posEmbeds: [Parameter]
    public let blocks: StageBlock
    public let upsampleBlocks: ModuleList<StageBlock>
    /// The projections before stages 2 and 3 (nil where the pixel shuffle alone gives the stage's width).
    public let upsampleProjections: [Linear?]
    public let deconv: Sequential1<Conv2d>
    /// Token → image maps of stages 1 and 2 (empty without `imageSkips`).
    public let toImage: [Linear]

    /// Builds the generator. Throws if the configuration is impossible.
    public init(_ config: TransGANConfiguration, dtype: DType = .float32, rng g: RandomGenerator) throws(ConfigurationError) {
        try config.validate()
        self.config = config
        let dims = config.stageDims, sides = config.stageSides, windows = config.stageWindows
        l1 = Linear(config.latentDim, sides[0] * sides[0] * dims[0], dtype: dtype, rng: g)
        posEmbeds = (0..<3).map { Parameter(Initializer.truncatedNormal([1, sides[$0] * sides[$0], dims[$0]], std: 0.02, dtype: dtype, rng: g)) }
        func stage(_ s: Int) -> StageBlock {
            StageBlock((0..<config.gDepths[s]).map { _ in
                TransGANBlock(dim: dims[s], heads: config.gHeads, side: sides[s], window: windows[s], mlpRatio: config.mlpRatio,
                              noise: false, init: .generator, dtype: dtype, rng: g)
            })
        }
        blocks = stage(0)
        upsampleBlocks = ModuleList([stage(1), stage(2)])
        upsampleProjections = (1..<3).map { s in
            config.stageIsProjected(s) ? makeLinear(dims[s - 1], 4 * dims[s], init: .generator, dtype: dtype, rng: g) : nil
        }
        let conv = Conv2d(dims[2], config.channels, kernel: 1, dtype: dtype, rng: g)
        conv.weight.assignTensor(Initializer.xavierUniform([config.channels, dims[2], 1, 1], fanIn: dims[2], fanOut: config.channels,
                                                           dtype: dtype, rng: g))
        deconv = Sequential1(conv)
        toImage = config.hasImageSkips ? (0..<2).map { makeLinear(dims[$0], config.channels, init: .generator, dtype: dtype, rng: g) } : []
        super.init()
        register("l1", l1)
        for (i, p) in posEmbeds.enumerated() { register("pos_embed_\(i + 1)", p) }
        register("blocks", blocks)
        register("upsample_blocks", upsampleBlocks)
        for (i, p) in upsampleProjections.enumerated() { if let p { register("upsample_proj_\(i + 2)", p) } }
        register("deconv", deconv)
        for (i, l) in toImage.enumerated() { register("to_image_\(i + 1)", l) }
    }

    /// z `[B, latent]` → images `[B, channels, S, S]` (unbounded; data is in [−1, 1]).
    public func callAsFunction(_ z: Tensor) -> Tensor {
        let b = z.shape[0]
        let dims = config.stageDims, sides = config.stageSides
        var x = l1(z).reshaped([b, sides[0] * sides[0], dims[0]]) + posEmbeds[0].tensor    // [B, N₁, C]
        x = blocks(x)
        var skip: Tensor? = nil                                                            // [B, ch, side, side]
        for s in 1..<3 {
            if !toImage.isEmpty {
                let image = tokensToImage(toImage[s - 1](x), side: sides[s - 1])
                skip = (skip.map { $0.resized(height: sides[s - 1], width: sides[s - 1], mode: .bilinear) + image } ?? image)
            }
            if let proj = upsampleProjections[s - 1] { x = proj(x) }                     // [B, N, 4·C_s]
            x = pixelUpsample(x, side: sides[s - 1]) + posEmbeds[s].tensor              // [B, 4N, C_s]
            x = upsampleBlocks[s - 1](x)
        }
        // 1×1 conv on tokens: [B, N₃, C₃] · Wᵀ → [B, N₃, ch] → [B, ch, S, S]
        let w = deconv.item.weight.tensor.reshaped([config.channels, dims[2]])
        let side = sides[2]
        let image = tokensToImage(x.linear(weight: w, bias: deconv.item.bias?.tensor, precision: matmulPrecision), side: side)
        return skip.map { $0.resized(height: side, width: side, mode: .bilinear) + image } ?? image
    }

    /// `[B, side², ch]` → `[B, ch, side, side]`.
    private func tokensToImage(_ t: Tensor, side: Int) -> Tensor {
        t.permuted([0, 2, 1]).reshaped([t.shape[0], config.channels, side, side])
    }
}

/// `[B, H·W, C]` → `[B, 4·H·W, C/4]` by PixelShuffle(2) on the `[B, C, H, W]` view:
/// out[c, 2h+i, 2w+j] = in[4c+2i+j, h, w]; tokens stay row-major.
public func pixelUpsample(_ x: Tensor, side: Int) -> Tensor {
    let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
    precondition(n == side * side, "[pixelUpsample] \(n) tokens for a \(side)×\(side) grid")
    return x.permuted([0, 2, 1]).reshaped([b, c, side, side])               // [B, C, H, W]
        .pixelShuffle(2)                                                    // [B, C/4, 2H, 2W]
        .reshaped([b, c / 4, 4 * n]).permuted([0, 2, 1])                    // [B, 4N, C/4]
}
