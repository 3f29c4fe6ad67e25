// The TransGAN discriminator (official `ViT_custom_scale2_rp_noise`): DiffAugment → two patch embeddings
// (P×P → ¾·df channels on an (S/P)² grid; 2P×2P → ¼·df on (S/2P)²) → blocks on the fine grid → 2×2
// average-pool merge, concat with the coarse branch (+ pos_embed_2) → blocks → class token → final block
// (no relative bias) → LayerNorm → token 0 → Linear → raw critic score. Every block injects learned per-token
// noise. Init (reference §2): Linear trunc-normal .02 / bias 0, pos-embeds and cls trunc-normal .02,
// patch-conv weights xavier-uniform (biases default).
import Atelier

public final class Discriminator: Module, @unchecked Sendable {
    public let config: TransGANConfiguration
    public let fRGB1: Conv2d, fRGB2: Conv2d
    public let clsToken: Parameter, posEmbed1: Parameter, posEmbed2: Parameter
    public let blocks1: ModuleList<TransGANBlock>, blocks2: ModuleList<TransGANBlock>
    public let lastBlock: Sequential1<TransGANBlock>
    public let norm: NormWrapper
    public let head: Linear
    /// The augmentation applied on every call (set `.none` to disable).
    public var augmentation: DiffAugment

    public init(_ config: TransGANConfiguration, augmentation: DiffAugment = .official, dtype: DType = .float32,
                rng g: RandomGenerator) throws(ConfigurationError) {
        try config.validate()
        self.config = config
        self.augmentation = augmentation
        let (d1, d2) = config.dDims, (s1, s2) = config.dSides, p = config.patchSize, ch = config.channels, df = config.dfDim
        fRGB1 = Conv2d(ch, d1, kernel: p, stride: p, dtype: dtype, rng: g)
        fRGB1.weight.assignTensor(Initializer.xavierUniform([d1, ch, p, p], fanIn: ch * p * p, fanOut: d1 * p * p, dtype: dtype, rng: g))
        fRGB2 = Conv2d(ch, d2, kernel: 2 * p, stride: 2 * p, dtype: dtype, rng: g)
        fRGB2.weight.assignTensor(Initializer.xavierUniform([d2, ch, 2 * p, 2 * p], fanIn: ch * 4 * p * p, fanOut: d2 * 4 * p * p,
                                                            dtype: dtype, rng: g))
        clsToken = Parameter(Initializer.truncatedNormal([1, 1, df], std: 0.02, dtype: dtype, rng: g))
        posEmbed1 = Parameter(Initializer.truncatedNormal([1, s1 * s1, d1], std: 0.02, dtype: dtype, rng: g))
        posEmbed2 = Parameter(Initializer.truncatedNormal([1, s2 * s2, df], std: 0.02, dtype: dtype, rng: g))
        func block(_ dim: Int, _ side: Int, _ window: Int) -> TransGANBlock {
            TransGANBlock(dim: dim, heads: config.dHeads, side: side, window: window, mlpRatio: config.mlpRatio, noise: true,
                          init: .discriminator, dtype: dtype, rng: g)
        }
        blocks1 = ModuleList((0..<config.dDepth).map { _ in block(d1, s1, s1) })
        blocks2 = ModuleList((0..<config.dDepth).map { _ in block(df, s2, s2) })
        lastBlock = Sequential1(block(df, 0, 0))
        norm = NormWrapper(df, dtype: dtype)
        head = makeLinear(df, 1, init: .discriminator, dtype: dtype, rng: g)
        super.init()
        register("cls_token", clsToken)
        register("pos_embed_1", posEmbed1)
        register("pos_embed_2", posEmbed2)
        register("fRGB_1", fRGB1)
        register("fRGB_2", fRGB2)
        register("blocks_1", blocks1)
        register("blocks_2", blocks2)
        register("last_block", lastBlock)
        register("norm", norm)
        register("head", head)
    }

    /// Images `[B, ch, S, S]` → critic scores `[B, 1]`. Augmentation and noise draw fresh values from
    /// `generator` on every call.
    public func callAsFunction(_ images: Tensor, rng: RandomGenerator) -> Tensor {
        let x0 = augmentation.apply(images, rng: rng)
        let b = x0.shape[0]
        let (d1, d2) = config.dDims, (s1, s2) = config.dSides
        var x = fRGB1(x0).reshaped([b, d1, s1 * s1]).permuted([0, 2, 1]) + posEmbed1.tensor     // [B, S1², ¾df]
        let x2 = fRGB2(x0).reshaped([b, d2, s2 * s2]).permuted([0, 2, 1])                      // [B, S2², ¼df]
        for blk in blocks1.items { x = blk(x, rng: rng) }
        x = x.permuted([0, 2, 1]).reshaped([b, d1, s1, s1]).avgPool2d(kernel: 2)               // [B, ¾df, S2, S2]
            .reshaped([b, d1, s2 * s2]).permuted([0, 2, 1])                                    // [B, S2², ¾df]
        x = Tensor.concat([x, x2], axis: 2) + posEmbed2.tensor                                 // [B, S2², df]
        for blk in blocks2.items { x = blk(x, rng: rng) }
        let cls = clsToken.tensor.expanded(to: [b, 1, config.dfDim])
        x = Tensor.concat([cls, x], axis: 1)                                                   // [B, 1+S2², df]
        x = lastBlock.item(x, rng: rng)
        x = norm(x).select(axis: 1, 0)                                                         // [B, df]
        return head(x)                                                                         // [B, 1]
    }
}
