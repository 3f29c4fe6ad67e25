import Foundation
import Testing
@testable import PaintTransformer

private func constantBrushes(_ value: Float, size: Int = 64) -> BrushSet {
    let brush = try! Brush(width: size, height: size, pixels: [Float](repeating: value, count: size * size))
    return BrushSet(vertical: brush, horizontal: brush)
}

/// Bounding box (x0, y0, x1, y1) of pixels where `predicate` holds on an [H, W] grid.
private func box(width: Int, height: Int, _ predicate: (Int, Int) -> Bool) -> [Int] {
    var b = [Int.max, Int.max, -1, -1]
    for y in 0..<height {
        for x in 0..<width where predicate(x, y) {
            b = [min(b[0], x), min(b[1], y), max(b[2], x), max(b[3], y)]
        }
    }
    return b
}

/// The warped brush over a whole window, via the production footprint and sampler (no morphology).
private func rawWarp(_ stroke: Stroke, brush: Brush, size: Int) -> [Float] {
    let f = StrokeFootprint(stroke, windowWidth: size, windowHeight: size, sourceWidth: size, sourceHeight: size)!
    let rows = nearestIndices(input: brush.height, output: size), cols = nearestIndices(input: brush.width, output: size)
    var out = [Float](repeating: 0, count: size * size)
    brush.pixels.withUnsafeBufferPointer { t in
        rows.withUnsafeBufferPointer { r in
            cols.withUnsafeBufferPointer { c in
                let grid = SourceGrid(
                    texture: t.baseAddress!, mask: nil, textureWidth: brush.width, rowIndex: r.baseAddress!,
                    colIndex: c.baseAddress!, width: size, height: size)
                for i in 0..<size {
                    for j in 0..<size {
                        out[i * size + j] = sampleBilinear(
                            t.baseAddress!, grid, col: f.colX * Float(j) + f.colY * Float(i) + f.col0,
                            row: f.rowX * Float(j) + f.rowY * Float(i) + f.row0)
                    }
                }
            }
        }
    }
    return out
}

@Test func referenceGeometryCheck() {
    // Reference §2 [M]: H = W = 64, all-ones brush, x=.5, y=.25, w=.5, h=.25.
    let ones = constantBrushes(1)
    let flat = Stroke(x: 0.5, y: 0.25, w: 0.5, h: 0.25, theta: 0, color: [1, 1, 1])
    let warp = rawWarp(flat, brush: ones.horizontal, size: 64)
    #expect(box(width: 64, height: 64) { warp[$1 * 64 + $0] > 0 } == [16, 8, 47, 23])
    var rotated = flat
    rotated.theta = 0.5
    let warpRotated = rawWarp(rotated, brush: ones.horizontal, size: 64)
    #expect(box(width: 64, height: 64) { warpRotated[$1 * 64 + $0] > 0 } == [24, 0, 39, 31])

    // Drawn: the binary alpha is eroded by one pixel, the inside gets colour × 1.
    let rasterizer = StrokeRasterizer(brushes: ones)
    var canvas = RGBImage(width: 64, height: 64)
    var red = flat
    red.color = [0.8, 0.2, 0.1]
    rasterizer.draw(red, in: PixelWindow(left: 0, top: 0, width: 64, height: 64), on: &canvas)
    #expect(box(width: 64, height: 64) { canvas[0, $1, $0] > 0 } == [17, 9, 46, 22])
    #expect(canvas[0, 15, 30] == 0.8 && canvas[1, 15, 30] == 0.2 && canvas[2, 15, 30] == 0.1)
    var rotatedCanvas = RGBImage(width: 64, height: 64)
    rotated.color = [1, 1, 1]
    rasterizer.draw(rotated, in: PixelWindow(left: 0, top: 0, width: 64, height: 64), on: &rotatedCanvas)
    // The top edge is the window border, which erosion ignores.
    #expect(box(width: 64, height: 64) { rotatedCanvas[0, $1, $0] > 0 } == [25, 0, 38, 30])
}

@Test func laterStrokesCoverEarlierOnes() {
    let rasterizer = StrokeRasterizer(brushes: constantBrushes(1))
    let window = PixelWindow(left: 0, top: 0, width: 32, height: 32)
    let first = Stroke(x: 0.4, y: 0.5, w: 0.5, h: 0.5, theta: 0, color: [1, 0, 0])
    let second = Stroke(x: 0.6, y: 0.5, w: 0.5, h: 0.5, theta: 0, color: [0, 0, 1])
    var canvas = RGBImage(width: 32, height: 32)
    rasterizer.draw([first, second], in: window, on: &canvas)
    #expect(canvas[2, 16, 16] == 1 && canvas[0, 16, 16] == 0)  // overlap: blue on top
    #expect(canvas[0, 16, 7] == 1)  // only the first stroke reaches here
    var reversed = RGBImage(width: 32, height: 32)
    rasterizer.draw([second, first], in: window, on: &reversed)
    #expect(reversed[0, 16, 16] == 1 && reversed[2, 16, 16] == 0)
}

/// A literal transcription of the reference's inference renderer over one whole window (Double maths): nearest
/// resize, affine_grid + grid_sample, threshold, ±1e9-padded morphology, composite.
private func naiveDraw(_ stroke: Stroke, brushes: BrushSet, window: PixelWindow, canvas: inout RGBImage) {
    let wn = window.width, hn = window.height
    let brush = brushes.brush(w: stroke.w, h: stroke.h)
    var resized = [Double](repeating: 0, count: wn * hn)
    let rows = nearestIndices(input: brush.height, output: hn), cols = nearestIndices(input: brush.width, output: wn)
    for i in 0..<hn { for j in 0..<wn { resized[i * wn + j] = Double(brush.pixels[Int(rows[i]) * brush.width + Int(cols[j])]) } }
    let x = Double(stroke.x), y = Double(stroke.y), w = Double(stroke.w), h = Double(stroke.h)
    let c = cos(Double.pi * Double(stroke.theta)), s = sin(Double.pi * Double(stroke.theta))
    let H = Double(hn), W = Double(wn)
    let m = [c / w, s * H / (W * w), (1 - 2 * x) * c / w + (1 - 2 * y) * s * H / (W * w),
             -s * W / (H * h), c / h, (1 - 2 * y) * c / h - (1 - 2 * x) * s * W / (H * h)]
    var warped = [Double](repeating: 0, count: wn * hn)
    for i in 0..<hn {
        for j in 0..<wn {
            let u = (2 * Double(j) + 1) / W - 1, v = (2 * Double(i) + 1) / H - 1
            let gu = m[0] * u + m[1] * v + m[2], gv = m[3] * u + m[4] * v + m[5]
            let px = ((gu + 1) * W - 1) / 2, py = ((gv + 1) * H - 1) / 2
            let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down))
            let fx = px - Double(x0), fy = py - Double(y0)
            func tap(_ yy: Int, _ xx: Int) -> Double { (0..<hn).contains(yy) && (0..<wn).contains(xx) ? resized[yy * wn + xx] : 0 }
            warped[i * wn + j] = tap(y0, x0) * (1 - fx) * (1 - fy) + tap(y0, x0 + 1) * fx * (1 - fy)
                + tap(y0 + 1, x0) * (1 - fx) * fy + tap(y0 + 1, x0 + 1) * fx * fy
        }
    }
    let colour = [Double(stroke.color.x), Double(stroke.color.y), Double(stroke.color.z)]
    for i in 0..<hn {
        for j in 0..<wn {
            let cy = window.top + i, cx = window.left + j
            guard (0..<canvas.height).contains(cy), (0..<canvas.width).contains(cx) else { continue }
            var alpha = 1e9
            var fg = [-1e9, -1e9, -1e9]
            for di in -1...1 {
                for dj in -1...1 {
                    let ii = i + di, jj = j + dj
                    guard (0..<hn).contains(ii), (0..<wn).contains(jj) else { continue }
                    alpha = min(alpha, warped[ii * wn + jj] > 0 ? 1 : 0)
                    for k in 0..<3 { fg[k] = max(fg[k], warped[ii * wn + jj] * colour[k]) }
                }
            }
            for k in 0..<3 {
                canvas[k, cy, cx] = Float(fg[k] * alpha + Double(canvas[k, cy, cx]) * (1 - alpha))
            }
        }
    }
}

@Test func rasterizerMatchesLiteralReferenceRenderer() {
    let brushes = BrushSet.oilPaint(size: 96)
    let rasterizer = StrokeRasterizer(brushes: brushes)
    var rng = SplitMix64(seed: 11)
    var mismatches = 0, painted = 0
    for trial in 0..<40 {
        let canvasW = 40 + Int(rng.next() % 30), canvasH = 40 + Int(rng.next() % 30)
        let size = [32, 48, 64, 128][trial % 4]
        let window = PixelWindow(
            left: Int(rng.next() % 60) - 30, top: Int(rng.next() % 60) - 30, width: size, height: size - (trial % 3) * 4)
        var fast = RGBImage(
            width: canvasW, height: canvasH, pixels: (0..<(3 * canvasW * canvasH)).map { _ in rng.nextUnitFloat() })
        var slow = fast
        let before = fast
        for _ in 0..<3 {
            let stroke = Stroke(
                x: rng.nextUnitFloat() * 1.2 - 0.1, y: rng.nextUnitFloat() * 1.2 - 0.1,
                w: 0.1 + rng.nextUnitFloat() * 0.6, h: 0.1 + rng.nextUnitFloat() * 0.6, theta: rng.nextUnitFloat() * 2 - 0.5,
                color: [rng.nextUnitFloat(), rng.nextUnitFloat(), rng.nextUnitFloat()])
            rasterizer.draw(stroke, in: window, on: &fast)
            naiveDraw(stroke, brushes: brushes, window: window, canvas: &slow)
        }
        for k in 0..<fast.pixels.count {
            if abs(fast.pixels[k] - slow.pixels[k]) > 1e-4 { mismatches += 1 }
        }
        painted += zip(before.pixels, fast.pixels).filter { $0 != $1 }.count
    }
    // Float vs Double may flip a pixel whose sample lands within ~1e-5 texel of the zero-padding border.
    #expect(painted > 10_000)
    #expect(mismatches <= 6, "\(mismatches) of \(painted) painted values differ")
}

@Test func windowsBeyondTheCanvasAreClipped() {
    // Drawing into a window that hangs off the canvas equals drawing on a larger canvas and cropping.
    let rasterizer = StrokeRasterizer(brushes: .oilPaint(size: 64))
    let stroke = Stroke(x: 0.3, y: 0.35, w: 0.6, h: 0.45, theta: 0.2, color: [0.3, 0.6, 0.9])
    var small = RGBImage(width: 40, height: 30)
    rasterizer.draw(stroke, in: PixelWindow(left: -20, top: -16, width: 64, height: 64), on: &small)
    var large = RGBImage(width: 100, height: 100)
    rasterizer.draw(stroke, in: PixelWindow(left: 10, top: 10, width: 64, height: 64), on: &large)
    var same = true
    for c in 0..<3 { for y in 0..<30 { for x in 0..<40 where small[c, y, x] != large[c, y + 26, x + 30] { same = false } } }
    #expect(same)
    #expect(small.pixels.contains { $0 > 0 })
}

@Test func degenerateStrokesPaintNothing() {
    let rasterizer = StrokeRasterizer(brushes: constantBrushes(1, size: 8))
    var canvas = RGBImage(width: 16, height: 16)
    let window = PixelWindow(left: 0, top: 0, width: 16, height: 16)
    rasterizer.draw(Stroke(x: 0.5, y: 0.5, w: 0, h: 0.5, theta: 0, color: [1, 1, 1]), in: window, on: &canvas)
    rasterizer.draw(Stroke(x: .nan, y: 0.5, w: 0.5, h: 0.5, theta: 0, color: [1, 1, 1]), in: window, on: &canvas)
    rasterizer.draw(Stroke(x: 5e30, y: 0.5, w: 0.5, h: 0.5, theta: 0, color: [1, 1, 1]), in: window, on: &canvas)
    #expect(canvas.pixels.allSatisfy { $0 == 0 })
}
