import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

// The engine renderer against the host training renderer, the reference's geometry check, and finite-difference
// gradients w.r.t. every stroke parameter and the colour.

private func strokeRows(_ strokes: [Stroke], dtype: DType = .float32) -> (shapes: Tensor, colors: Tensor) {
    let shapes = strokes.flatMap { [Double($0.x), Double($0.y), Double($0.w), Double($0.h), Double($0.theta)] }
    let colors = strokes.flatMap { [Double($0.color.x), Double($0.color.y), Double($0.color.z)] }
    return (Tensor(shape: [strokes.count, 5], values: shapes, dtype: dtype),
            Tensor(shape: [strokes.count, 3], values: colors, dtype: dtype))
}

@Test func engineRendererMatchesHostTrainingRenderer() {
    let brushes = BrushSet.oilPaint(size: 128)
    let host = TrainingStrokeRenderer(brushes: brushes)
    let engine = DifferentiableStrokeRenderer(brushes: brushes)
    var rng = SplitMix64(seed: 11)
    var strokes = (0..<12).map { _ in StrokeSynthesizer.randomStroke(using: &rng) }
    strokes[3].x += 0.45  // partly outside the canvas
    for (height, width) in [(32, 32), (24, 40)] {
        let (shapes, colors) = strokeRows(strokes)
        let (fg, alpha) = engine.render(shapes: shapes, colors: colors, height: height, width: width)
        let fgValues = fg.floats(), alphaValues = alpha.floats()
        let plane = height * width
        var worst: Float = 0
        for (i, stroke) in strokes.enumerated() {
            let layer = host.layer(for: stroke, width: width, height: height)
            for k in 0..<(3 * plane) { worst = max(worst, abs(fgValues[i * 3 * plane + k] - layer.foreground[k])) }
            for k in 0..<plane { worst = max(worst, abs(alphaValues[i * plane + k] - layer.alpha[k])) }
        }
        // Both are Float32 bilinear sampling of the same texture; they differ only in how the coordinate is
        // rounded (matrix + affine grid here, a precomputed pixel map on the host).
        #expect(worst < 2e-3, "\(height)×\(width): largest difference \(worst)")
    }
}

@Test func compositeMatchesHostOverOperator() {
    let brushes = BrushSet.oilPaint(size: 64)
    let host = TrainingStrokeRenderer(brushes: brushes)
    let engine = DifferentiableStrokeRenderer(brushes: brushes)
    var rng = SplitMix64(seed: 3)
    let strokes = (0..<8).map { _ in StrokeSynthesizer.randomStroke(using: &rng) }
    let decisions: [Double] = [1, 0, 1, 1, 0, 1, 1, 1]
    var canvas = RGBImage(width: 32, height: 32, pixels: (0..<(3 * 32 * 32)).map { Float($0 % 17) / 17 })
    let start = Tensor(shape: [1, 3, 32, 32], floats: canvas.pixels)
    let (shapes, colors) = strokeRows(strokes)
    let (fg, alpha) = engine.render(shapes: shapes, colors: colors, height: 32, width: 32)
    let out = DifferentiableStrokeRenderer.composite(
        canvas: start, foreground: fg, alpha: alpha, decisions: Tensor(shape: [1, 8], values: decisions)).floats()
    for (i, stroke) in strokes.enumerated() where decisions[i] == 1 {
        TrainingStrokeRenderer.composite(host.layer(for: stroke, width: 32, height: 32), onto: &canvas)
    }
    let worst = maxAbsDifference(out, canvas.pixels)
    #expect(worst < 2e-3, "largest difference \(worst)")
}

/// The reference's check (H = W = 64, all-ones brush): x = .5, y = .25, w = .5, h = .25, θ = 0 paints columns
/// 16…47 and rows 8…23; θ = .5 turns the box by 90° (w spans rows). Read before the morphology (the warped
/// brush), and after it (the eroded alpha loses one pixel on every side).
@Test func engineRendererReferenceGeometry() throws {
    let ones = try Brush(width: 64, height: 64, pixels: [Float](repeating: 1, count: 64 * 64))
    let engine = DifferentiableStrokeRenderer(brushes: BrushSet(vertical: ones, horizontal: ones))
    func paintedBox(_ values: [Float]) -> (cols: ClosedRange<Int>, rows: ClosedRange<Int>)? {
        var cols: [Int] = [], rows: [Int] = []
        for i in 0..<64 { for j in 0..<64 where values[i * 64 + j] > 0.5 { rows.append(i); cols.append(j) } }
        guard let c0 = cols.min(), let c1 = cols.max(), let r0 = rows.min(), let r1 = rows.max() else { return nil }
        return (c0...c1, r0...r1)
    }
    let stroke = Stroke(x: 0.5, y: 0.25, w: 0.5, h: 0.25, theta: 0, color: SIMD3(1, 1, 1))
    var turned = stroke
    turned.theta = 0.5
    let (shapes, colors) = strokeRows([stroke, turned])
    let (_, alpha) = engine.render(shapes: shapes, colors: colors, height: 64, width: 64)
    let grid = Tensor.affineGrid(
        theta: DifferentiableStrokeRenderer.affineMatrices(shapes, height: 64, width: 64), height: 64, width: 64)
    let warped = Tensor(shape: [1, 1, 64, 64], floats: ones.pixels).gridSample(grid).floats()  // [2, 1, 64, 64]
    let alphas = alpha.floats()

    let upright = try #require(paintedBox(Array(warped[0..<4096])))
    #expect(upright.cols == 16...47 && upright.rows == 8...23)
    // Every pixel inside the box is fully painted, every pixel outside untouched.
    for i in 0..<64 {
        for j in 0..<64 {
            let inside = (16...47).contains(j) && (8...23).contains(i)
            #expect(abs(warped[i * 64 + j] - (inside ? 1 : 0)) < 1e-5, "pixel (\(i), \(j))")
        }
    }
    let eroded = try #require(paintedBox(Array(alphas[0..<4096])))
    #expect(eroded.cols == 17...46 && eroded.rows == 9...22)

    // θ = .5: the 32-pixel width now spans rows 0…31, the 16-pixel height columns 24…39.
    let rotated = try #require(paintedBox(Array(warped[4096..<8192])))
    #expect(rotated.cols == 24...39 && rotated.rows == 0...31)
}

// MARK: - Finite-difference gradients

/// A smooth, non-constant brush (so the 3×3 max/min pick one neighbour clearly) with a round silhouette.
private func smoothBrush(size: Int, phase: Double) throws -> Brush {
    var pixels = [Float](repeating: 0, count: size * size)
    for r in 0..<size {
        for c in 0..<size {
            let dx = (Double(c) + 0.5) / Double(size) - 0.5, dy = (Double(r) + 0.5) / Double(size) - 0.5
            guard dx * dx + dy * dy < 0.2 else { continue }
            pixels[r * size + c] = Float(0.55 + 0.3 * sin(7 * dx + 3 * dy + phase) * cos(5 * dy - 2 * dx))
        }
    }
    return try Brush(width: size, height: size, pixels: pixels)
}

@Test func rendererGradientsMatchFiniteDifferences() throws {
    let brushes = BrushSet(vertical: try smoothBrush(size: 24, phase: 0.3), horizontal: try smoothBrush(size: 24, phase: 1.1))
    let engine = DifferentiableStrokeRenderer(brushes: brushes)
    let (b, n, size) = (1, 3, 12)
    // Shapes away from w = h (the brush switch) and well inside the canvas; one vertical, two horizontal.
    let shapeValues: [Double] = [0.45, 0.52, 0.55, 0.71, 0.13,
                                 0.57, 0.41, 0.66, 0.43, 0.37,
                                 0.50, 0.58, 0.49, 0.31, 0.81]
    let colorValues: [Double] = [0.9, 0.2, 0.4, 0.1, 0.7, 0.3, 0.6, 0.5, 0.95]
    var rng = SplitMix64(seed: 9)
    let canvasValues = (0..<(b * 3 * size * size)).map { _ in Double(rng.nextUnitFloat()) }
    let cotangent = (0..<(b * 3 * size * size)).map { _ in Double(rng.nextUnitFloat()) - 0.5 }

    func loss(_ shapes: Tensor, _ colors: Tensor) -> Tensor {
        let (fg, alpha) = engine.render(shapes: shapes, colors: colors, height: size, width: size)
        let canvas = Tensor(shape: [b, 3, size, size], values: canvasValues, dtype: .float64)
        let out = DifferentiableStrokeRenderer.composite(canvas: canvas, foreground: fg, alpha: alpha, decisions: nil)
        return (out * Tensor(shape: out.shape, values: cotangent, dtype: .float64)).sum()
    }
    let shapes = Tensor(shape: [n, 5], values: shapeValues, dtype: .float64)
    let colors = Tensor(shape: [n, 3], values: colorValues, dtype: .float64)
    let grads = gradients(of: loss(shapes, colors), wrt: [shapes, colors])
    evaluate(grads)
    let analytic = [grads[0].doubles(), grads[1].doubles()]

    // Central differences with a small step: bilinear sampling is piecewise linear in the coordinates, so the
    // step must not carry a sample across a texel boundary (eps·|d texel/d param| ≪ 1).
    let eps = 1e-7
    for (which, base) in [shapeValues, colorValues].enumerated() {
        for k in base.indices {
            var plus = base, minus = base
            plus[k] += eps
            minus[k] -= eps
            func value(_ v: [Double]) -> Double {
                which == 0
                    ? loss(Tensor(shape: [n, 5], values: v, dtype: .float64), colors).item()
                    : loss(shapes, Tensor(shape: [n, 3], values: v, dtype: .float64)).item()
            }
            let numeric = (value(plus) - value(minus)) / (2 * eps)
            let a = analytic[which][k]
            // Tolerance: absolute 1e-5 plus relative 1e-4 (Float64; FD truncation error ≈ eps²·f''' is far below).
            #expect(abs(a - numeric) <= 1e-5 + 1e-4 * max(abs(a), abs(numeric)),
                    "\(which == 0 ? "shape" : "colour")[\(k)]: analytic \(a), numeric \(numeric)")
        }
    }
    // Every shape parameter of every stroke moves the picture.
    #expect(analytic[0].allSatisfy { abs($0) > 1e-6 }, "\(analytic[0])")
}

@Test func straightThroughDecisionsAreHardForwardAndSigmoidBackward() {
    let logits = Tensor(shape: [4], values: [-1.5, -0.1, 0.2, 3], dtype: .float64)
    let d = DifferentiableStrokeRenderer.straightThroughDecisions(logits)
    #expect(d.doubles() == [0, 0, 1, 1])
    let g = gradients(of: (d * Tensor(shape: [4], values: [1, 2, 3, 4], dtype: .float64)).sum(), wrt: [logits])[0].doubles()
    for (i, l) in [-1.5, -0.1, 0.2, 3].enumerated() {
        let s = 1 / (1 + exp(-l))
        #expect(abs(g[i] - Double(i + 1) * s * (1 - s)) < 1e-12)
    }
}
