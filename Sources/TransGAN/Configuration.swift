// TransGAN model configurations: the official CIFAR-10 model (`xl`), the paper's size family (`s`, `m`, `l`),
// CPU-sized ladders (`tiny`, `micro`) and a 64×64 configuration with grid self-attention (`grid64`).
// Facts: reference/transgan.md §1, §2, §4, §6. Validation throws `ConfigurationError` naming the problem.

/// Everything that fixes the shapes of a TransGAN generator and discriminator.
public struct TransGANConfiguration: Sendable, Equatable, Codable {
    /// Name used on the command line and stored in checkpoints.
    public var name: String
    /// Image channels (3 for RGB, 1 for grayscale).
    public var channels: Int
    /// Side of the square image G produces and D reads.
    public var imageSize: Int

    // MARK: Generator
    /// z dimension.
    public var latentDim: Int
    /// Token grid side of stage 1 (8 for 32×32 output).
    public var bottomWidth: Int
    /// Stage-1 embedding dimension; later stages use ÷4 and ÷16 unless `gDims` says otherwise.
    public var gfDim: Int
    /// Embedding dimension of each stage when not the pixel shuffle's (gfDim, ÷4, ÷16); first entry = gfDim.
    /// A stage wider than ¼ of the one before gets a linear projection to 4× its width before the pixel shuffle
    /// (a 1×1 sub-pixel convolution), so `tiny`'s 16-channel, 4-dim-head 32×32 stage can be given capacity.
    public var gDims: [Int]? = nil
    /// Blocks per stage (three stages).
    public var gDepths: [Int]
    /// Attention heads in every generator block.
    public var gHeads: Int
    /// Window of grid self-attention for stages whose grid side is ≥ `gridAttentionFrom`; other stages attend
    /// globally (window = grid side).
    public var gWindow: Int
    /// Grid side from which G stages use window (grid) attention instead of global attention.
    public var gridAttentionFrom: Int
    /// MLP hidden width ÷ block width.
    public var mlpRatio: Int
    /// Skip images (StyleGAN2's skip generator; not in TransGAN): the first two stages also map their tokens to
    /// an image, each upsampled bilinearly and added to the next stage's, so the coarse stage's shapes reach the
    /// output smoothly from the first steps instead of as pixel-shuffled blocks. nil (older checkpoints) = off.
    public var imageSkips: Bool? = nil
    /// Whether the generator has skip images.
    public var hasImageSkips: Bool { imageSkips ?? false }

    // MARK: Discriminator
    /// Embedding dimension of the 8×8 (second) scale; the first scale uses ¾ of it.
    public var dfDim: Int
    /// Patch side of the first patch embedding (the second uses 2×).
    public var patchSize: Int
    /// Blocks per scale (blocks_1 and blocks_2); one final block follows the class token.
    public var dDepth: Int
    /// Attention heads in every discriminator block (hard-coded to 4 in the official code).
    public var dHeads: Int

    public init(name: String, channels: Int = 3, imageSize: Int = 32, latentDim: Int, bottomWidth: Int = 8, gfDim: Int,
                gDepths: [Int], gHeads: Int = 4, gWindow: Int = 16, gridAttentionFrom: Int = 64, mlpRatio: Int = 4,
                dfDim: Int, patchSize: Int = 2, dDepth: Int, dHeads: Int = 4) {
        self.name = name
        self.channels = channels
        self.imageSize = imageSize
        self.latentDim = latentDim
        self.bottomWidth = bottomWidth
        self.gfDim = gfDim
        self.gDepths = gDepths
        self.gHeads = gHeads
        self.gWindow = gWindow
        self.gridAttentionFrom = gridAttentionFrom
        self.mlpRatio = mlpRatio
        self.dfDim = dfDim
        self.patchSize = patchSize
        self.dDepth = dDepth
        self.dHeads = dHeads
    }

    // MARK: Named configurations

    /// The official CIFAR-10 model (TransGAN-XL): G 83,312,495 and D 10,210,400 parameters.
    public static let xl = TransGANConfiguration(name: "xl", latentDim: 256, gfDim: 1024, gDepths: [5, 4, 2], dfDim: 384, dDepth: 3)
    /// TransGAN-S (stage-1 dim 384, depths 5,2,2) with the current recipe's discriminator.
    public static let s = TransGANConfiguration(name: "s", latentDim: 256, gfDim: 384, gDepths: [5, 2, 2], dfDim: 384, dDepth: 3)
    /// TransGAN-M (512; 5,2,2).
    public static let m = TransGANConfiguration(name: "m", latentDim: 256, gfDim: 512, gDepths: [5, 2, 2], dfDim: 384, dDepth: 3)
    /// TransGAN-L (768; 5,2,2).
    public static let l = TransGANConfiguration(name: "l", latentDim: 256, gfDim: 768, gDepths: [5, 2, 2], dfDim: 384, dDepth: 3)
    /// CPU ladder "S-lite" (reference §6).
    public static let sLite = TransGANConfiguration(name: "s-lite", latentDim: 128, gfDim: 384, gDepths: [3, 2, 2], dfDim: 192, dDepth: 2)
    /// CPU ladder "tiny": G 128, 256, [2,2,1] (head dims 64/16/4); D 128, patch 2, depth 2.
    public static let tiny = TransGANConfiguration(name: "tiny", latentDim: 128, gfDim: 256, gDepths: [2, 2, 1], dfDim: 128, dDepth: 2)
    /// Unit-test size: G 64, 128, [1,1,1]; D 64, patch 2, depth 1.
    public static let micro = TransGANConfiguration(name: "micro", latentDim: 64, gfDim: 128, gDepths: [1, 1, 1], dfDim: 64, dDepth: 1)
    /// A 64×64 generator (bottom 16 → 16, 32, 64) whose 64×64 stage uses 16×16 grid self-attention; D reads
    /// 4×4 and 8×8 patches so its token grids are 16×16 and 8×8.
    public static let grid64 = TransGANConfiguration(name: "grid64", imageSize: 64, latentDim: 64, bottomWidth: 16, gfDim: 128,
                                                     gDepths: [1, 1, 1], gWindow: 16, dfDim: 64, patchSize: 4, dDepth: 1)

    public static let named: [TransGANConfiguration] = [.xl, .s, .m, .l, .sLite, .tiny, .micro, .grid64]

    /// Looks up a named configuration.
    public static func named(_ name: String) throws(ConfigurationError) -> TransGANConfiguration {
        guard let c = named.first(where: { $0.name == name }) else {
            throw .unknownName(name, known: named.map(\.name))
        }
        return c
    }

    /// The same configuration for `channels`-channel images.
    public func with(channels: Int) -> TransGANConfiguration {
        var c = self
        c.channels = channels
        return c
    }

    // MARK: Derived shapes

    /// Embedding dimension of each generator stage: `gDims`, or (C, C/4, C/16).
    public var stageDims: [Int] { gDims ?? [gfDim, gfDim / 4, gfDim / 16] }
    /// Whether stage `s` (1 or 2) starts with a projection: its width is not ¼ of the previous stage's.
    public func stageIsProjected(_ s: Int) -> Bool { stageDims[s - 1] != 4 * stageDims[s] }
    /// Token grid side of each generator stage.
    public var stageSides: [Int] { [bottomWidth, bottomWidth * 2, bottomWidth * 4] }
    /// Attention window of each generator stage: the grid side, or `gWindow` at grid attention stages.
    public var stageWindows: [Int] { stageSides.map { $0 >= gridAttentionFrom ? Swift.min(gWindow, $0) : $0 } }
    /// Discriminator widths: first scale (¾·df) and the patch-4 branch (¼·df); they concatenate to df.
    public var dDims: (first: Int, second: Int) { (dfDim / 4 * 3, dfDim / 4) }
    /// Token grid sides of the two discriminator scales.
    public var dSides: (first: Int, second: Int) { (imageSize / patchSize, imageSize / (2 * patchSize)) }

    /// Largest embedding dimension (latent, G stage 1, D) a configuration may have.
    public static let maximumDim = 65_536
    /// Largest bottom width (stage-1 token grid side; the image is 4× it).
    public static let maximumBottomWidth = 64
    public static let maximumImageSize = 1_024
    /// Largest attention window side: a 64×64 window is 4,096 tokens attending to each other (16.7 M
    /// scores per head per image); larger stages must use grid attention (`gWindow`, `gridAttentionFrom`).
    public static let maximumWindow = 64
    /// Blocks per stage or scale, heads per block, MLP ratio.
    public static let maximumDepth = 64
    public static let maximumHeads = 64
    public static let maximumMLPRatio = 16

    /// Checks that every shape rule holds and every size is within the limits above (so a configuration read
    /// from a file cannot overflow or allocate without bound); throws the first violation.
    public func validate() throws(ConfigurationError) {
        func need(_ ok: Bool, _ message: @autoclosure () -> String) throws(ConfigurationError) {
            if !ok { throw .invalid(config: name, message()) }
        }
        let dims = 1...Self.maximumDim
        try need(channels == 1 || channels == 3, "image channels must be 1 or 3, got \(channels)")
        try need(dims.contains(latentDim), "latent dimension must be 1…\(Self.maximumDim), got \(latentDim)")
        try need(gDepths.count == 3 && gDepths.allSatisfy { (0...Self.maximumDepth).contains($0) },
                 "generator needs three stage depths of 0…\(Self.maximumDepth), got \(gDepths)")
        try need((1...Self.maximumImageSize).contains(imageSize), "image size must be 1…\(Self.maximumImageSize), got \(imageSize)")
        try need((1...Self.maximumBottomWidth).contains(bottomWidth), "bottom width must be 1…\(Self.maximumBottomWidth), got \(bottomWidth)")
        try need(imageSize == 4 * bottomWidth, "image size \(imageSize) must be 4 × bottom width \(bottomWidth) (two ×2 upsamplings)")
        try need((1...Self.maximumHeads).contains(gHeads) && (1...Self.maximumHeads).contains(dHeads),
                 "head counts must be 1…\(Self.maximumHeads), got \(gHeads) (G) and \(dHeads) (D)")
        if let gDims {
            try need(gDims.count == 3 && gDims.allSatisfy { dims.contains($0) && $0 % gHeads == 0 },
                     "generator stage dims must be three values of 1…\(Self.maximumDim) divisible by \(gHeads) heads, got \(gDims)")
            try need(gDims[0] == gfDim, "the first generator stage dim \(gDims[0]) must equal gf dim \(gfDim)")
        } else {
            try need(dims.contains(gfDim) && gfDim % (16 * gHeads) == 0,
                     "generator dim \(gfDim) must be 1…\(Self.maximumDim) and divisible by 16 × heads (\(16 * gHeads)) so every stage splits into \(gHeads) heads")
        }
        try need((1...Self.maximumImageSize).contains(gWindow), "grid-attention window must be 1…\(Self.maximumImageSize), got \(gWindow)")
        try need((1...Self.maximumImageSize).contains(gridAttentionFrom),
                 "grid-attention start side must be 1…\(Self.maximumImageSize), got \(gridAttentionFrom)")
        for (side, window) in zip(stageSides, stageWindows) {
            try need(window > 0 && side % window == 0, "attention window \(window) does not divide the \(side)×\(side) token grid")
            try need(window <= Self.maximumWindow, "the \(side)×\(side) generator stage attends over \(window)×\(window) windows, more than "
                     + "\(Self.maximumWindow)×\(Self.maximumWindow); use grid attention (g-window, grid-from) for it")
        }
        try need((1...Self.maximumMLPRatio).contains(mlpRatio), "MLP ratio must be 1…\(Self.maximumMLPRatio), got \(mlpRatio)")
        try need(dims.contains(dfDim) && dfDim % 4 == 0, "discriminator dim \(dfDim) must be 1…\(Self.maximumDim) and divisible by 4 (¾ and ¼ branches)")
        try need(dDims.first % dHeads == 0 && dfDim % dHeads == 0,
                 "discriminator dims \(dDims.first) and \(dfDim) must be divisible by \(dHeads) heads")
        try need(patchSize > 0 && imageSize % (2 * patchSize) == 0,
                 "image size \(imageSize) must be divisible by 2 × patch size \(patchSize)")
        try need(dSides.first % 2 == 0, "discriminator first grid \(dSides.first) must be even for the 2×2 average-pool merge")
        try need(dSides.first <= Self.maximumWindow, "the discriminator attends globally over its \(dSides.first)×\(dSides.first) grid, "
                 + "more than \(Self.maximumWindow)×\(Self.maximumWindow); use a larger patch size")
        try need((0...Self.maximumDepth).contains(dDepth), "discriminator depth must be 0…\(Self.maximumDepth), got \(dDepth)")
        // Every size is bounded now, so these products cannot overflow.
        let budget = TransGANLimits.parameterBudget
        try need(generatorParameterCount <= budget, "the generator would have \(generatorParameterCount) parameters, more than the budget of \(budget)")
        try need(discriminatorParameterCount <= budget,
                 "the discriminator would have \(discriminatorParameterCount) parameters, more than the budget of \(budget)")
    }

    /// The fields in which `other` differs from this configuration, as `field value (this) vs value (other)`.
    public func differences(from other: TransGANConfiguration) -> [String] {
        var out: [String] = []
        func cmp<T: Equatable>(_ field: String, _ a: T, _ b: T) { if a != b { out.append("\(field) \(a) vs \(b)") } }
        cmp("name", name, other.name); cmp("channels", channels, other.channels); cmp("image size", imageSize, other.imageSize)
        cmp("latent dim", latentDim, other.latentDim); cmp("bottom width", bottomWidth, other.bottomWidth); cmp("gf dim", gfDim, other.gfDim)
        cmp("G dims", stageDims, other.stageDims)
        cmp("G depths", gDepths, other.gDepths); cmp("G heads", gHeads, other.gHeads); cmp("g-window", gWindow, other.gWindow)
        cmp("grid-from", gridAttentionFrom, other.gridAttentionFrom); cmp("MLP ratio", mlpRatio, other.mlpRatio)
        cmp("image skips", hasImageSkips, other.hasImageSkips)
        cmp("df dim", dfDim, other.dfDim); cmp("patch size", patchSize, other.patchSize); cmp("D depth", dDepth, other.dDepth)
        cmp("D heads", dHeads, other.dHeads)
        return out
    }

    /// A human-readable summary (for `--info`).
    public var summary: String {
        """
        configuration: \(name)
          image: \(channels)×\(imageSize)×\(imageSize)
          generator: latent \(latentDim), bottom \(bottomWidth), dims \(stageDims), depths \(gDepths), heads \(gHeads), \
        windows \(stageWindows), MLP ×\(mlpRatio)\(hasImageSkips ? ", skip images" : "")
          discriminator: dim \(dfDim) (\(dDims.first)+\(dDims.second)), patch \(patchSize) and \(2 * patchSize), \
        grids \(dSides.first)×\(dSides.first) and \(dSides.second)×\(dSides.second), depth \(dDepth)+\(dDepth)+1, heads \(dHeads)
        """
    }
}

/// A configuration that cannot be built.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownName(String, known: [String])
    case invalid(config: String, String)

    public var description: String {
        switch self {
        case let .unknownName(n, known): return "unknown configuration '\(n)' (known: \(known.joined(separator: ", ")))"
        case let .invalid(config, message): return "configuration '\(config)' is impossible: \(message)"
        }
    }
}
