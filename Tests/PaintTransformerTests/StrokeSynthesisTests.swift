import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

/// Literal transcription of the reference's training `param2stroke` + morphology for one stroke (Double maths):
/// affine_grid + grid_sample of the brush and of (brush > 0), dilation/erosion with ±1e9 padding.
private func naiveTrainingLayer(_ stroke: Stroke, brushes: BrushSet, size: Int) -> (fg: [Double], alpha: [Double]) {
    let brush = brushes.brush(w: stroke.w, h: stroke.h)
    let bw = brush.width, bh = brush.height
    let x = Double(stroke.x), y = Double(stroke.y), w = Double(stroke.w), h = Double(stroke.h)
    let c = cos(Double.pi * Double(stroke.theta)), s = sin(Double.pi * Double(stroke.theta))
    let H = Double(size), W = Double(size)
    let m = [c / w, s * H / (W * w), (1 - 2 * x) * c / w + (1 - 2 * y) * s * H / (W * w),
             -s * W / (H * h), c / h, (1 - 2 * y) * c / h - (1 - 2 * x) * s * W / (H * h)]
    func sample(_ tex: (Int, Int) -> Double, _ u: Double, _ v: Double) -> Double {
        let px = ((u + 1) * Double(bw) - 1) / 2, py = ((v + 1) * Double(bh) - 1) / 2
        let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down))
        let fx = px - Double(x0), fy = py - Double(y0)
        func tap(_ yy: Int, _ xx: Int) -> Double { (0..<bh).contains(yy) && (0..<bw).contains(xx) ? tex(yy, xx) : 0 }
        return tap(y0, x0) * (1 - fx) * (1 - fy) + tap(y0, x0 + 1) * fx * (1 - fy)
            + tap(y0 + 1, x0) * (1 - fx) * fy + tap(y0 + 1, x0 + 1) * fx * fy
    }
    var warp = [Double](repeating: 0, count: size * size), mask = warp
    for i in 0..<size {
        for j in 0..<size {
            let u = (2 * Double(j) + 1) / W - 1, v = (2 * Double(i) + 1) / H - 1
            let gu = m[0] * u + m[1] * v + m[2], gv = m[3] * u + m[4] * v + m[5]
            warp[i * size + j] = sample({ Double(brush.pixels[$0 * bw + $1]) }, gu, gv)
            mask[i * size + j] = sample({ brush.pixels[$0 * bw + $1] > 0 ? 1 : 0 }, gu, gv)
        }
    }
    let colour = [Double(stroke.color.x), Double(stroke.color.y), Double(stroke.color.z)]
    var fg = [Double](repeating: -1e9, count: 3 * size * size), alpha = [Double](repeating: 1e9, count: size * size)
    for i in 0..<size {
        for j in 0..<size {
            for di in -1...1 {
                for dj in -1...1 where (0..<size).contains(i + di) && (0..<size).contains(j + dj) {
                    let k = (i + di) * size + j + dj
                    alpha[i * size + j] = min(alpha[i * size + j], mask[k])
                    for ch in 0..<3 { fg[ch * size * size + i * size + j] = max(fg[ch * size * size + i * size + j], warp[k] * colour[ch]) }
                }
            }
        }
    }
    return (fg, alpha)
}

@Test func trainingRendererMatchesLiteralReference() {
    let brushes = BrushSet.oilPaint(size: 128)
    let renderer = TrainingStrokeRenderer(brushes: brushes)
    var rng = SplitMix64(seed: 5)
    for trial in 0..<24 {
        let size = trial % 2 == 0 ? 32 : 64
        var stroke = StrokeSynthesizer.randomStroke(using: &rng)
        if trial % 3 == 0 { stroke.x += 0.4 }  // partly outside
        let layer = renderer.layer(for: stroke, width: size, height: size)
        let (fg, alpha) = naiveTrainingLayer(stroke, brushes: brushes, size: size)
        let fgError = maxAbsDifference(layer.foreground, fg)
        let alphaError = maxAbsDifference(layer.alpha, alpha)
        #expect(fgError < 1e-4 && alphaError < 1e-4, "trial \(trial): fg \(fgError), alpha \(alphaError)")
        #expect(layer.alpha.contains { $0 > 0 && $0 < 1 } || trial % 3 == 0)  // soft edges
    }
}

@Test func batchHasReferenceShapesAndRanges() {
    var rng = SplitMix64(seed: 1)
    let synth = StrokeSynthesizer(brushes: .oilPaint(size: 96))
    let batch = synth.makeBatch(batchSize: 8, using: &rng)
    #expect(batch.params.count == 8 * 8 * 5 && batch.colors.count == 8 * 8 * 3 && batch.validity.count == 64)
    #expect(batch.oldCanvases.count == 8 * 3 * 32 * 32 && batch.targets.count == batch.oldCanvases.count)
    for k in 0..<64 {
        for d in 0..<4 { #expect(batch.params[k * 5 + d] >= 0.2 && batch.params[k * 5 + d] < 0.7) }
        #expect(batch.params[k * 5 + 4] >= 0 && batch.params[k * 5 + 4] < 1)
    }
    #expect(batch.colors.allSatisfy { $0 >= 0 && $0 < 1 })
    #expect(batch.validity.allSatisfy { $0 == 0 || $0 == 1 })
    #expect((0..<8).allSatisfy { batch.validity[$0 * 8] == 1 })  // the first stroke is always valid
    #expect(batch.validity.contains(0))  // 8 strokes of ≥ 0.2² in a patch overlap often
    #expect(batch.oldCanvases.contains { $0 > 0 } && batch.targets != batch.oldCanvases)

    var again = SplitMix64(seed: 1)
    #expect(synth.makeBatch(batchSize: 8, using: &again) == batch)
}

@Test func backgroundsAreQuadrantsOfLargerCanvases() {
    let brushes = BrushSet.oilPaint(size: 64)
    let synth = StrokeSynthesizer(brushes: brushes)
    var rng = SplitMix64(seed: 9)
    let batch = synth.makeBatch(batchSize: 4, using: &rng)
    // Replay the generator: the first 8 strokes make the single 64×64 background.
    var replay = SplitMix64(seed: 9)
    var canvas = RGBImage(width: 64, height: 64)
    for _ in 0..<8 {
        let layer = synth.renderer.layer(for: StrokeSynthesizer.randomStroke(using: &replay), width: 64, height: 64)
        TrainingStrokeRenderer.composite(layer, onto: &canvas)
    }
    for b in 0..<4 {
        let qy = b / 2, qx = b % 2
        var same = true
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 where batch.oldCanvases[((b * 3 + c) * 32 + y) * 32 + x] != canvas[c, qy * 32 + y, qx * 32 + x] { same = false } } }
        #expect(same, "quadrant \(b)")
    }
}

@Test func validityFollowsTheOverlapRule() {
    let synth = StrokeSynthesizer(brushes: .oilPaint(size: 64))
    var rng = SplitMix64(seed: 3)
    let batch = synth.makeBatch(batchSize: 8, using: &rng)
    // Recompute the rule from the recorded strokes, and rebuild every target.
    for b in 0..<8 {
        var target = RGBImage(width: 32, height: 32, pixels: Array(batch.oldCanvases[(b * 3072)..<((b + 1) * 3072)]))
        var alphas: [[Float]] = [], valid: [Bool] = []
        for i in 0..<8 {
            let p = Array(batch.params[((b * 8 + i) * 5)..<((b * 8 + i) * 5 + 5)])
            let col = Array(batch.colors[((b * 8 + i) * 3)..<((b * 8 + i) * 3 + 3)])
            let layer = synth.renderer.layer(
                for: Stroke(x: p[0], y: p[1], w: p[2], h: p[3], theta: p[4], color: SIMD3(col[0], col[1], col[2])),
                width: 32, height: 32)
            var ok = true
            for j in 0..<i where valid[j] {
                let both = zip(layer.alpha, alphas[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let ratio = (3 * both + 1e-5) / (3 * alphas[j].reduce(0, +) + 1e-5)
                if ratio >= 0.75 { ok = false }
            }
            #expect(batch.validity[b * 8 + i] == (ok ? 1 : 0))
            if ok { TrainingStrokeRenderer.composite(layer, onto: &target) }
            alphas.append(layer.alpha)
            valid.append(ok)
        }
        #expect(target.pixels == Array(batch.targets[(b * 3072)..<((b + 1) * 3072)]))
    }
    // A stroke identical to an earlier one covers it (Σα²/Σα < 1 only because the alpha edges are soft).
    let stroke = Stroke(x: 0.5, y: 0.5, w: 0.4, h: 0.3, theta: 0.2, color: [1, 0, 0])
    let alpha = synth.renderer.layer(for: stroke, width: 32, height: 32).alpha
    #expect(StrokeSynthesizer.overlapRatio(alpha, over: alpha) > 0.9)
}

/// The batch definition written serially, one random draw after another, as the reference does.
private func serialBatch(_ synth: StrokeSynthesizer, batchSize: Int, using rng: inout SplitMix64) -> StrokeBatch {
    let n = synth.strokesPerPatch, p = synth.patchSize, big = 2 * p
    var old = [Float](repeating: 0, count: batchSize * 3 * p * p)
    for canvasIndex in 0..<(batchSize / 4) {
        var canvas = RGBImage(width: big, height: big)
        for _ in 0..<n {
            let stroke = StrokeSynthesizer.randomStroke(using: &rng)
            TrainingStrokeRenderer.composite(synth.renderer.layer(for: stroke, width: big, height: big), onto: &canvas)
        }
        for b in 0..<4 {
            let (qy, qx) = (b / 2, b % 2)
            for c in 0..<3 {
                for y in 0..<p {
                    for x in 0..<p {
                        old[(((canvasIndex * 4 + b) * 3 + c) * p + y) * p + x] = canvas.pixels[(c * big + qy * p + y) * big + qx * p + x]
                    }
                }
            }
        }
    }
    var params: [Float] = [], colors: [Float] = [], validity: [Float] = [], targets: [Float] = []
    for b in 0..<batchSize {
        var target = RGBImage(width: p, height: p, pixels: Array(old[(b * 3 * p * p)..<((b + 1) * 3 * p * p)]))
        var kept: [StrokeLayer] = []
        for _ in 0..<n {
            let stroke = StrokeSynthesizer.randomStroke(using: &rng)
            params += [stroke.x, stroke.y, stroke.w, stroke.h, stroke.theta]
            colors += [stroke.color.x, stroke.color.y, stroke.color.z]
            let layer = synth.renderer.layer(for: stroke, width: p, height: p)
            let isValid = kept.allSatisfy { StrokeSynthesizer.overlapRatio(layer.alpha, over: $0.alpha) < synth.overlapLimit }
            if isValid { TrainingStrokeRenderer.composite(layer, onto: &target); kept.append(layer) }
            validity.append(isValid ? 1 : 0)
        }
        targets += target.pixels
    }
    return StrokeBatch(batchSize: batchSize, strokesPerPatch: n, patchSize: p, params: params, colors: colors,
                       validity: validity, oldCanvases: old, targets: targets)
}

@Test func batchMatchesTheSerialDefinitionOnAnyThreadCount() {
    let synth = StrokeSynthesizer(brushes: .oilPaint(size: 96))
    var reference = SplitMix64(seed: 5)
    let expected = serialBatch(synth, batchSize: 12, using: &reference)
    for threads in [1, 2] {
        var rng = SplitMix64(seed: 5)
        let batch = ExecutionContext.current.with(threads: threads).run { synth.makeBatch(batchSize: 12, using: &rng) }
        #expect(batch == expected, "threads \(threads)")
        #expect(rng.state == reference.state, "threads \(threads): the generator advanced differently")
    }
}
