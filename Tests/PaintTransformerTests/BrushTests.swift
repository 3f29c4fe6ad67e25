import Testing
@testable import PaintTransformer

/// Silhouette and intensity statistics, the quantities the reference measured on its PNG brushes.
private struct BrushStats {
    var widthFraction: Double, heightFraction: Double, coverage: Double
    var mean: Double, p5: Double, p95: Double
    init(_ brush: Brush) {
        var minR = Int.max, maxR = -1, minC = Int.max, maxC = -1, count = 0
        var interior: [Float] = []
        for r in 0..<brush.height {
            for c in 0..<brush.width where brush.pixels[r * brush.width + c] > 0 {
                minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
                count += 1
                // Interior = all 8 neighbours painted too, so the soft rim does not skew the intensity.
                let neighbours = (-3...3).flatMap { dr in (-3...3).map { dc in (r + dr, c + dc) } }
                if neighbours.allSatisfy({ (rr, cc) in
                    rr >= 0 && rr < brush.height && cc >= 0 && cc < brush.width && brush.pixels[rr * brush.width + cc] > 0
                }) { interior.append(brush.pixels[r * brush.width + c]) }
            }
        }
        widthFraction = Double(maxC - minC + 1) / Double(brush.width)
        heightFraction = Double(maxR - minR + 1) / Double(brush.height)
        coverage = Double(count) / Double(brush.pixels.count)
        interior.sort()
        mean = Double(interior.reduce(0, +)) / Double(interior.count)
        p5 = Double(interior[interior.count * 5 / 100])
        p95 = Double(interior[interior.count * 95 / 100])
    }
}

/// Mean squared difference between neighbours along x and along y (streaks make one much larger).
private func gradientEnergy(_ brush: Brush) -> (alongX: Double, alongY: Double) {
    var gx = 0.0, gy = 0.0
    let w = brush.width, p = brush.pixels
    // Only deep-interior pixels, so the rim falloff does not count.
    func deep(_ r: Int, _ c: Int) -> Bool {
        (-4...4).allSatisfy { dr in (-4...4).allSatisfy { dc in p[(r + dr) * w + c + dc] > 0 } }
    }
    for r in 4..<(brush.height - 4) {
        for c in 4..<(w - 4) where deep(r, c) {
            gx += Double((p[r * w + c + 1] - p[r * w + c]) * (p[r * w + c + 1] - p[r * w + c]))
            gy += Double((p[(r + 1) * w + c] - p[r * w + c]) * (p[(r + 1) * w + c] - p[r * w + c]))
        }
    }
    return (gx, gy)
}

@Test func proceduralBrushMatchesReferenceMeasurements() {
    let set = BrushSet.oilPaint()
    for brush in [set.vertical, set.horizontal] {
        #expect(brush.width == 256 && brush.height == 256)
        #expect(brush.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        let s = BrushStats(brush)
        #expect(abs(s.widthFraction - 0.75) < 0.03)
        #expect(abs(s.heightFraction - 0.90) < 0.03)
        #expect(abs(s.coverage - 0.566) < 0.04)
        #expect(s.mean > 0.88 && s.mean < 0.93)
        #expect(s.p5 > 0.8 && s.p5 < 0.88 && s.p95 > 0.92 && s.p95 < 0.98)
    }
    // Same silhouette, different grain.
    #expect(zip(set.vertical.pixels, set.horizontal.pixels).allSatisfy { ($0 > 0) == ($1 > 0) })
    let v = gradientEnergy(set.vertical), h = gradientEnergy(set.horizontal)
    #expect(v.alongX > 4 * v.alongY)
    #expect(h.alongY > 4 * h.alongX)
}

@Test func proceduralBrushIsDeterministicPerSeed() {
    #expect(Brush.oilPaint(grain: .vertical, size: 64, seed: 1) == Brush.oilPaint(grain: .vertical, size: 64, seed: 1))
    #expect(Brush.oilPaint(grain: .vertical, size: 64, seed: 1) != Brush.oilPaint(grain: .vertical, size: 64, seed: 2))
}

@Test func brushSetChoosesVerticalOnlyForTallStrokes() {
    let set = BrushSet.oilPaint(size: 16)
    #expect(set.brush(w: 0.2, h: 0.3) == set.vertical)
    #expect(set.brush(w: 0.3, h: 0.2) == set.horizontal)
    #expect(set.brush(w: 0.3, h: 0.3) == set.horizontal)
}

@Test func userBrushIsValidated() throws {
    let ok = try Brush(width: 2, height: 1, pixels: [0, 1])
    #expect(ok.pixels == [0, 1])
    #expect(throws: BrushError.empty(width: 0, height: 3)) { try Brush(width: 0, height: 3, pixels: []) }
    #expect(throws: BrushError.sizeMismatch(width: 2, height: 2, count: 3)) {
        try Brush(width: 2, height: 2, pixels: [0, 0, 0])
    }
    #expect(throws: BrushError.nonFinite(index: 1)) { try Brush(width: 2, height: 1, pixels: [0, .nan]) }
    #expect(throws: BrushError.outOfRange(index: 0, value: 255)) { try Brush(width: 1, height: 1, pixels: [255]) }
    #expect(throws: BrushError.outOfRange(index: 0, value: -0.5)) { try Brush(width: 1, height: 1, pixels: [-0.5]) }
}
