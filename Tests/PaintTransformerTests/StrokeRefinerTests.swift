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
    // Start shifted, resized and grey.
    let start = truth.map { Stroke(x: $0.x + 0.08, y: $0.y - 0.06, w: $0.w * 0.7, h: $0.h * 1.2, theta: $0.theta,
                                   color: SIMD3(0.5, 0.5, 0.5)) }
    let windows = [RefinementWindow(target: target.pixels, canvas: canvas, strokes: start)]
    let refiner = StrokeRefiner(steps: 60, resolution: r)
    let before = refiner.error(of: windows, strokes: [start])
    let refined = refiner.refine(windows)
    let after = refiner.error(of: windows, strokes: refined)
    #expect(refined[0].count == 2)
    #expect(after < before * 0.5, "MSE \(before) → \(after)")
    // PSNR rises by at least 3 dB.
    #expect(10 * Foundation.log10(before / after) > 3)
    #expect(StrokeRefiner(steps: 0).refine(windows)[0] == start)
}
