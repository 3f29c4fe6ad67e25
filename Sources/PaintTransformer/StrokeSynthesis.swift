// Self-supervised training data (reference §4, Huage001 `set_input`), the host-side part without gradients.
//
// Each batch of B patches: B/4 black 64×64 canvases get 8 random strokes each and are cut into quadrants ("old");
// then 8 random foreground strokes per patch are rendered at 32×32, a stroke is invalid if it covers ≥ 75 % of an
// earlier valid one, and the valid ones are composited in order onto "old" to make the target.
import Atelier

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

    /// Makes one batch; the same generator state gives the same batch, whatever the thread count.
    /// - Parameter batchSize: B, a positive multiple of 4 (each background canvas yields 4 patches).
    public func makeBatch(batchSize: Int, using rng: inout some RandomNumberGenerator) -> StrokeBatch {
        precondition(
            batchSize > 0 && batchSize % 4 == 0, "[StrokeSynthesizer] batch size \(batchSize) must be a positive multiple of 4")
        let n = strokesPerPatch, p = patchSize, plane = 3 * p * p, canvases = batchSize / 4

        // Every random number is drawn up front, in the order of the serial definition (background strokes canvas
        // by canvas, then foreground strokes patch by patch); rendering draws none, so it runs in parallel and the
        // batch depends on the generator state alone.
        var backgroundStrokes: [Stroke] = [], foregroundStrokes: [Stroke] = []
        backgroundStrokes.reserveCapacity(canvases * n)
        foregroundStrokes.reserveCapacity(batchSize * n)
        for _ in 0..<(canvases * n) { backgroundStrokes.append(Self.randomStroke(using: &rng)) }
        for _ in 0..<(batchSize * n) { foregroundStrokes.append(Self.randomStroke(using: &rng)) }

        var old = [Float](repeating: 0, count: batchSize * plane)  // [B, 3, P, P]
        old.withUnsafeMutableBufferPointer { old in
            parallelFor(canvases) { range in
                let scratch = RasterScratch()
                for canvasIndex in range {
                    renderBackground(strokes: backgroundStrokes[(canvasIndex * n)..<((canvasIndex + 1) * n)],
                                     into: old.baseAddress! + canvasIndex * 4 * plane, scratch: scratch)
                }
            }
        }

        var params = [Float](repeating: 0, count: batchSize * n * 5)
        var colors = [Float](repeating: 0, count: batchSize * n * 3)
        var validity = [Float](repeating: 0, count: batchSize * n)
        var targets = [Float](repeating: 0, count: batchSize * plane)
        params.withUnsafeMutableBufferPointer { params in
            colors.withUnsafeMutableBufferPointer { colors in
                validity.withUnsafeMutableBufferPointer { validity in
                    targets.withUnsafeMutableBufferPointer { targets in
                        parallelFor(batchSize) { range in
                            let scratch = RasterScratch()
                            for b in range {
                                let strokes = foregroundStrokes[(b * n)..<((b + 1) * n)]
                                for (i, stroke) in strokes.enumerated() {
                                    let pr = params.baseAddress! + (b * n + i) * 5, cr = colors.baseAddress! + (b * n + i) * 3
                                    (pr[0], pr[1], pr[2], pr[3], pr[4]) = (stroke.x, stroke.y, stroke.w, stroke.h, stroke.theta)
                                    (cr[0], cr[1], cr[2]) = (stroke.color.x, stroke.color.y, stroke.color.z)
                                }
                                let target = renderForeground(
                                    strokes: strokes, over: Array(old[(b * plane)..<((b + 1) * plane)]),
                                    validity: validity.baseAddress! + b * n, scratch: scratch)
                                (targets.baseAddress! + b * plane).update(from: target.pixels, count: plane)
                            }
                        }
                    }
                }
            }
        }
        return StrokeBatch(
            batchSize: batchSize, strokesPerPatch: n, patchSize: p, params: params, colors: colors,
            validity: validity, oldCanvases: old, targets: targets)
    }

    /// One black 2P canvas with `strokes` composited in order, cut into the quadrants of four patches
    /// ([4, 3, P, P] at `quadrants`, index qy·2 + qx).
    private func renderBackground(strokes: ArraySlice<Stroke>, into quadrants: UnsafeMutablePointer<Float>,
                                  scratch: RasterScratch) {
        let p = patchSize, big = 2 * patchSize
        var canvas = RGBImage(width: big, height: big)
        for stroke in strokes {
            TrainingStrokeRenderer.composite(renderer.layer(for: stroke, width: big, height: big, scratch: scratch), onto: &canvas)
        }
        canvas.pixels.withUnsafeBufferPointer { pixels in
            for qy in 0..<2 {
                for qx in 0..<2 {
                    for c in 0..<3 {
                        for y in 0..<p {
                            let src = (c * big + qy * p + y) * big + qx * p
                            let dst = (((qy * 2 + qx) * 3 + c) * p + y) * p
                            (quadrants + dst).update(from: pixels.baseAddress! + src, count: p)
                        }
                    }
                }
            }
        }
    }

    /// `old` with the valid strokes composited in order; a stroke is invalid when it covers at least
    /// `overlapLimit` of an earlier valid one. Writes 1 (valid) or 0 per stroke to `validity`.
    private func renderForeground(strokes: ArraySlice<Stroke>, over old: [Float], validity: UnsafeMutablePointer<Float>,
                                  scratch: RasterScratch) -> RGBImage {
        let p = patchSize
        var target = RGBImage(width: p, height: p, pixels: old)
        var layers: [StrokeLayer] = [], valid: [Bool] = []
        for (i, stroke) in strokes.enumerated() {
            let layer = renderer.layer(for: stroke, width: p, height: p, scratch: scratch)
            let isValid = (0..<i).allSatisfy { j in
                !valid[j] || Self.overlapRatio(layer.alpha, over: layers[j].alpha) < overlapLimit
            }
            if isValid { TrainingStrokeRenderer.composite(layer, onto: &target) }
            validity[i] = isValid ? 1 : 0
            layers.append(layer)
            valid.append(isValid)
        }
        return target
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
