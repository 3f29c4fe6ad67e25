// What a configuration costs before anything is allocated: exact parameter counts (checked against the built
// models in tests) and a rough activation estimate, so impossible sizes are refused with a message instead of
// overflowing or allocating petabytes. Only meaningful once the sizes are bounded (see `validate()`).

extension TransGANConfiguration {
    /// Parameters of one pre-norm block: two LayerNorms, qkv (no bias), proj, the relative-position table
    /// (when windowed), the noise strength (D) and the MLP.
    static func blockParameters(dim d: Int, window w: Int, heads: Int, mlpRatio r: Int, noise: Bool) -> Int {
        let table = w > 0 ? (2 * w - 1) * (2 * w - 1) * heads : 0
        return 4 * d + 3 * d * d + (d * d + d) + table + (noise ? 1 : 0) + (d * r * d + r * d) + (r * d * d + d)
    }

    /// Parameters of `Generator(self)`.
    public var generatorParameterCount: Int {
        let dims = stageDims, sides = stageSides, windows = stageWindows
        let n0 = sides[0] * sides[0] * dims[0]
        var total = latentDim * n0 + n0                                             // l1
        for s in 0..<3 {
            if s > 0 && stageIsProjected(s) { total += dims[s - 1] * 4 * dims[s] + 4 * dims[s] }  // upsample_proj
            total += sides[s] * sides[s] * dims[s]                                     // pos_embed
            total += gDepths[s] * Self.blockParameters(dim: dims[s], window: windows[s], heads: gHeads, mlpRatio: mlpRatio, noise: false)
        }
        if hasImageSkips { total += (dims[0] + dims[1]) * channels + 2 * channels }       // to_image_1, _2
        return total + dims[2] * channels + channels                                   // 1×1 conv
    }

    /// Parameters of `Discriminator(self)`.
    public var discriminatorParameterCount: Int {
        let (d1, d2) = dDims, (s1, s2) = dSides, p = patchSize, df = dfDim
        var total = channels * d1 * p * p + d1 + channels * d2 * 4 * p * p + d2        // fRGB_1, fRGB_2
        total += df + s1 * s1 * d1 + s2 * s2 * df                                       // cls, pos_embed_1, _2
        total += dDepth * Self.blockParameters(dim: d1, window: s1, heads: dHeads, mlpRatio: mlpRatio, noise: true)
        total += dDepth * Self.blockParameters(dim: df, window: s2, heads: dHeads, mlpRatio: mlpRatio, noise: true)
        total += Self.blockParameters(dim: df, window: 0, heads: dHeads, mlpRatio: mlpRatio, noise: true)
        return total + 2 * df + df + 1                                                 // norm, head
    }

    /// Values one block keeps for its backward pass, per image: about (8 + 3·MLP ratio) token-sized tensors
    /// (the fused attention keeps no tokens × window² score matrix).
    func blockActivations(tokens n: Double, dim d: Double) -> Double {
        (8 + 3 * Double(mlpRatio)) * n * d
    }

    /// Rough activation values of one generator forward pass, per image (Double: no overflow for any size).
    public var generatorActivationsPerImage: Double {
        var total = 0.0
        for s in 0..<3 {
            let n = Double(stageSides[s] * stageSides[s])
            total += Double(gDepths[s]) * blockActivations(tokens: n, dim: Double(stageDims[s]))
            total += (s > 0 && stageIsProjected(s) ? 3 : 2) * n * Double(stageDims[s])
        }
        return total
    }

    /// Rough activation values of one discriminator forward pass, per image.
    public var discriminatorActivationsPerImage: Double {
        let s1 = Double(dSides.first), s2 = Double(dSides.second)
        let df = Double(dfDim)
        var total = 4 * Double(channels * imageSize * imageSize)                       // augmentation copies
        total += Double(dDepth) * blockActivations(tokens: s1 * s1, dim: Double(dDims.first))
        total += Double(dDepth) * blockActivations(tokens: s2 * s2, dim: df)
        total += blockActivations(tokens: s2 * s2 + 1, dim: df)
        return total
    }
}
