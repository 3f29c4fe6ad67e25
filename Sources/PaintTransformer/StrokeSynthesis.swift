// Self-supervised training data (reference §4, Huage001 `set_input`), the host-side part without gradients.
//
// Each batch of B patches: B/4 black 64×64 canvases get 8 random strokes each and are cut into quadrants ("old");
// then 8 random foreground strokes per patch are rendered at 32×32, a stroke is invalid if it covers ≥ 75 % of an
// earlier valid one, and the valid ones are composited in order onto "old" to make the target.

/// One synthetic training batch. B patches, N strokes per patch, P = 32.
public struct StrokeBatch: Sendable, Equatable {
    /// B, N and P.
    public var batchSize: Int
    public var strokesPerPatch: Int
    public var patchSize: Int
    /// Ground-truth shapes (x, y, w, h, θ), [B, N, 5].
    public var params: [Float]
    /// Ground-truth colours (R, G, B), [B, N, 3].
    public var colors: [Float]
    /// 1 if the stroke is valid (drawn on the target), else 0, [B, N].
    public var validity: [Float]
    /// Canvases the network starts from, [B, 3, P, P].
    public var oldCanvases: [Float]
    /// Old canvases with the valid strokes composited, [B, 3, P, P].
    public var targets: [Float]
}

/// Draws random strokes and renders synthetic (canvas, target) pairs.
public struct StrokeSynthesizer: Sendable {
    /// Renders backgrounds and foreground strokes.
    public var renderer: TrainingStrokeRenderer
    /// N (8) and P (32).
    public var strokesPerPatch: Int
    public var patchSize: Int
    /// A stroke covering at least this fraction of an earlier valid stroke's alpha is invalid.
    public var overlapLimit: Float

    /// Creates a synthesizer with the reference's defaults.
    public init(
        brushes: BrushSet = .oilPaint(), strokesPerPatch: Int = 8, patchSize: Int = 32, overlapLimit: Float = 0.75
    ) {
        precondition(strokesPerPatch > 0 && patchSize > 0, "[StrokeSynthesizer] sizes must be positive")
        renderer = TrainingStrokeRenderer(brushes: brushes)
        self.strokesPerPatch = strokesPerPatch
        self.patchSize = patchSize
        self.overlapLimit = overlapLimit
    }

    /// The reference's stroke distribution: x, y, w, h ~ 0.2 + 0.5·U[0, 1), θ ~ U[0, 1), colour ~ U[0, 1)³.
    public static func randomStroke(using rng: inout some RandomNumberGenerator) -> Stroke {
        let x = 0.2 + 0.5 * rng.nextUnitFloat(), y = 0.2 + 0.5 * rng.nextUnitFloat()
        let w = 0.2 + 0.5 * rng.nextUnitFloat(), h = 0.2 + 0.5 * rng.nextUnitFloat()
        let theta = rng.nextUnitFloat()
        let color = SIMD3(rng.nextUnitFloat(), rng.nextUnitFloat(), rng.nextUnitFloat())
        return Stroke(x: x, y: y, w: w, h: h, theta: theta, color: color)
    }

    /// Makes one batch; the same generator state gives the same batch.
    /// - Parameter batchSize: B, a positive multiple of 4 (each background canvas yields 4 patches).
    public func makeBatch(batchSize: Int, using rng: inout some RandomNumberGenerator) -> StrokeBatch {
        precondition(
            batchSize > 0 && batchSize % 4 == 0, "[StrokeSynthesizer] batch size \(batchSize) must be a positive multiple of 4")
        let n = strokesPerPatch, p = patchSize, big = 2 * patchSize
        let scratch = RasterScratch()

        // Backgrounds: B/4 canvases at 2P, cut into quadrants, batch index = canvas·4 + qy·2 + qx.
        var old = [Float](repeating: 0, count: batchSize * 3 * p * p)  // [B, 3, P, P]
        for canvasIndex in 0..<(batchSize / 4) {
            var canvas = RGBImage(width: big, height: big)
            for _ in 0..<n {
                let stroke = Self.randomStroke(using: &rng)
                let layer = renderer.layer(for: stroke, width: big, height: big, scratch: scratch)
                TrainingStrokeRenderer.composite(layer, onto: &canvas)
            }
            for qy in 0..<2 {
                for qx in 0..<2 {
                    let b = canvasIndex * 4 + qy * 2 + qx
                    for c in 0..<3 {
                        for y in 0..<p {
                            let src = (c * big + qy * p + y) * big + qx * p
                            let dst = ((b * 3 + c) * p + y) * p
                            old[dst..<(dst + p)] = canvas.pixels[src..<(src + p)]
                        }
                    }
                }
            }
        }

        // Foreground strokes at P with the overlap rule.
        var params = [Float](repeating: 0, count: batchSize * n * 5)
        var colors = [Float](repeating: 0, count: batchSize * n * 3)
        var validity = [Float](repeating: 0, count: batchSize * n)
        var targets = old
        for b in 0..<batchSize {
            var target = RGBImage(width: p, height: p, pixels: Array(old[(b * 3 * p * p)..<((b + 1) * 3 * p * p)]))
            var layers: [StrokeLayer] = []
            var valid: [Bool] = []
            for i in 0..<n {
                let stroke = Self.randomStroke(using: &rng)
                params.replaceSubrange(((b * n + i) * 5)..<((b * n + i) * 5 + 5),
                                       with: [stroke.x, stroke.y, stroke.w, stroke.h, stroke.theta])
                colors.replaceSubrange(((b * n + i) * 3)..<((b * n + i) * 3 + 3),
                                       with: [stroke.color.x, stroke.color.y, stroke.color.z])
                let layer = renderer.layer(for: stroke, width: p, height: p, scratch: scratch)
                let isValid = (0..<i).allSatisfy { j in
                    !valid[j] || Self.overlapRatio(layer.alpha, over: layers[j].alpha) < overlapLimit
                }
                if isValid { TrainingStrokeRenderer.composite(layer, onto: &target) }
                validity[b * n + i] = isValid ? 1 : 0
                layers.append(layer)
                valid.append(isValid)
            }
            targets.replaceSubrange((b * 3 * p * p)..<((b + 1) * 3 * p * p), with: target.pixels)
        }
        return StrokeBatch(
            batchSize: batchSize, strokesPerPatch: n, patchSize: p, params: params, colors: colors,
            validity: validity, oldCanvases: old, targets: targets)
    }

    /// (Σ αᵢ·αⱼ + 1e-5) / (Σ αⱼ + 1e-5), summed over the reference's 3 repeated alpha channels (hence ×3, which
    /// only matters against the 1e-5).
    static func overlapRatio(_ alpha: [Float], over earlier: [Float]) -> Float {
        var both: Float = 0, total: Float = 0
        for k in alpha.indices {
            both += alpha[k] * earlier[k]
            total += earlier[k]
        }
        return (3 * both + 1e-5) / (3 * total + 1e-5)
    }
}
