import Foundation
import Testing
@testable import PaintTransformer

// Refinement must lower the error of strokes that start away from the ones that drew the target.

@Test func refinementRecoversStrokesThatDrewTheTarget() {
    let r = 32
    let truth = [Stroke(x: 0.4, y: 0.45, w: 0.5, h: 0.25, theta: 0.1, color: SIMD3(0.9, 0.2, 0.1)),
                 Stroke(x: 0.6, y: 0.6, w: 0.3, h: 0.5, theta: 0.7, color: SIMD3(0.1, 0.5, 0.9))]
    let renderer = TrainingStrokeRenderer()
    var target = RGBImage(width: r, height: r, pixels: [Float](repeating: 0.5, count: 3 * r * r))
    for s in truth { TrainingStrokeRenderer.composite(renderer.layer(for: s, width: r, height: r), onto: &target) }
    let canvas = [Float](repeating: 0.5, count: 3 * r * r)
    // Start shifted, resized and grey, as a network's first guess would be.
    let start = truth.map { Stroke(x: $0.x + 0.04, y: $0.y - 0.03, w: $0.w * 0.85, h: $0.h * 1.1, theta: $0.theta,
                                   color: SIMD3(0.5, 0.5, 0.5)) }
    let windows = [RefinementWindow(target: target.pixels, canvas: canvas, strokes: start)]
    let refiner = StrokeRefiner(steps: 60, resolution: r)
    let before = refiner.error(of: windows, strokes: [start])
    // Least-squares colours alone already lower the error; the Adam steps then move the shapes too.
    // Without pruning no stroke is left out (nil), so the results unwrap.
    let colorsOnly = StrokeRefiner(steps: 0, resolution: r).refine(windows).map { $0.map { $0! } }
    #expect(colorsOnly[0].map(\.x) == start.map(\.x))
    #expect(refiner.error(of: windows, strokes: colorsOnly) < before)
    let refined = refiner.refine(windows).map { $0.map { $0! } }
    let after = refiner.error(of: windows, strokes: refined)
    #expect(refined[0].count == 2)
    #expect(after < before * 0.5, "MSE \(before) → \(after)")
    // PSNR rises by at least 3 dB.
    #expect(10 * Foundation.log10(before / after) > 3)
    #expect(StrokeRefiner(steps: 0, fitColors: false).refine(windows)[0] == start)
}

// A textured brush's body is darker than 1 (≈ 0.9), so colours capped at 1 could never paint white: the fit must
// use the headroom up to the brushes' colour ceiling, and the rasterizer must clip what overshoots.
@Test func fittedColoursReachWhiteThroughATexturedBrush() {
    let brushes = BrushSet.oilPaint()
    let ceiling = brushes.colorCeiling
    #expect(ceiling > 1.05 && ceiling < 1.2, "oil-paint body mean ≈ 0.9, so the ceiling ≈ 1.1; got \(ceiling)")
    // A flat brush needs no headroom.
    let flat = try! Brush(width: 8, height: 8, pixels: [Float](repeating: 1, count: 64))
    #expect(BrushSet(vertical: flat, horizontal: flat).colorCeiling == 1)

    let r = 32
    let white = [Float](repeating: 1, count: 3 * r * r), black = [Float](repeating: 0, count: 3 * r * r)
    let stroke = Stroke(x: 0.5, y: 0.5, w: 0.8, h: 0.6, theta: 0, color: SIMD3(0.5, 0.5, 0.5))
    let fitted = StrokeRefiner(steps: 0, resolution: r, brushes: brushes)
        .refine([RefinementWindow(target: white, canvas: black, strokes: [stroke])])[0][0]!
    #expect(fitted.color.x > 1.02 && fitted.color.x <= ceiling, "fitted \(fitted.color)")

    // Rendered at that colour, the stroke's painted pixels average near white and none exceeds 1.
    var canvas = RGBImage(width: r, height: r, pixels: black)
    let painter = StrokeRasterizer(brushes: brushes)
    painter.draw([fitted], in: PixelWindow(left: 0, top: 0, width: r, height: r), on: &canvas)
    let painted = canvas.pixels.filter { $0 > 0 }
    let mean = painted.reduce(0, +) / Float(max(painted.count, 1))
    #expect(painted.count > 3 * r * r / 10, "the stroke covers a fair part of the window (\(painted.count / 3) px)")
    #expect(mean > 0.97, "mean painted value \(mean)")
    #expect(painted.allSatisfy { $0 <= 1 })
}
