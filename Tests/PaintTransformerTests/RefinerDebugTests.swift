import Foundation
import Testing
@testable import PaintTransformer

@Test func refinerDebug() {
    let r = 32
    let truth = [Stroke(x: 0.4, y: 0.45, w: 0.5, h: 0.25, theta: 0.1, color: SIMD3(0.9, 0.2, 0.1)),
                 Stroke(x: 0.6, y: 0.6, w: 0.3, h: 0.5, theta: 0.7, color: SIMD3(0.1, 0.5, 0.9))]
    let renderer = TrainingStrokeRenderer()
    var target = RGBImage(width: r, height: r, pixels: [Float](repeating: 0.5, count: 3 * r * r))
    for s in truth { TrainingStrokeRenderer.composite(renderer.layer(for: s, width: r, height: r), onto: &target) }
    let canvas = [Float](repeating: 0.5, count: 3 * r * r)
    let windows0 = [RefinementWindow(target: target.pixels, canvas: canvas, strokes: truth)]
    print("truth error", StrokeRefiner(steps: 1, resolution: r).error(of: windows0, strokes: [truth]))
    let start = truth.map { Stroke(x: $0.x + 0.04, y: $0.y - 0.03, w: $0.w * 0.85, h: $0.h * 1.1, theta: $0.theta, color: SIMD3(0.5, 0.5, 0.5)) }
    let windows = [RefinementWindow(target: target.pixels, canvas: canvas, strokes: start)]
    for lr in [0.0, 0.002, 0.005, 0.01] { for steps in [5, 10, 20, 60] {
        let refiner = StrokeRefiner(steps: steps, resolution: r, shapeLearningRate: lr)
        let refined = refiner.refine(windows)
        print(lr, steps, refiner.error(of: windows, strokes: refined), refined[0].map { "\($0.x) \($0.y) \($0.w) \($0.h) \($0.color)" })
    }}
}
