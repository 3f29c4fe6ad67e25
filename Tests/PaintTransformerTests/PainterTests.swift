import Foundation
import Testing
@testable import PaintTransformer

/// One centred stroke per patch (query 0, decision +1); the other queries are dropped.
private func centredStrokePredictor(_ targets: [Float], _ canvases: [Float], _ count: Int) -> [PredictedStroke] {
    #expect(targets.count == count * 3 * 32 * 32 && canvases.count == targets.count)
    return (0..<(count * 8)).map { i in
        PredictedStroke(x: 0.5, y: 0.5, w: 0.6, h: 0.4, theta: 0.1, decision: i % 8 == 0 ? 1 : -1)
    }
}

private func gradientImage(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            image[0, y, x] = Float(x) / Float(width)
            image[1, y, x] = Float(y) / Float(height)
            image[2, y, x] = 0.5
        }
    }
    return image
}

@Test func refinementCountFollowsReference() {
    #expect(Painter.refinementCount(width: 1, height: 1) == 0)
    #expect(Painter.refinementCount(width: 32, height: 20) == 0)
    #expect(Painter.refinementCount(width: 33, height: 20) == 1)
    #expect(Painter.refinementCount(width: 712, height: 474) == 5)  // chicago.jpg → S = 1024
    #expect(Painter.refinementCount(width: 100, height: 512) == 4)
}

@Test func strokesPerPassEqualPatchCounts() throws {
    let image = gradientImage(width: 75, height: 41)  // K = 2, S = 128
    let painting = try Painter(brushes: .oilPaint(size: 64)).paint(image, predictor: centredStrokePredictor)
    #expect(painting.image.width == 75 && painting.image.height == 41)
    #expect(painting.record.layers == 3)
    // The shifted pass's windows are 64 px, from row −32 in steps of 32: the first (−32…32) and the last
    // (96…160) rows miss the photo's rows 43…84, so 3 of its 5 rows are painted.
    #expect(painting.record.strokesPerPass == [1, 4, 16, 15])
    #expect(painting.record.strokes.filter(\.shifted).allSatisfy { (1...3).contains($0.patchRow) })
    #expect(painting.image.pixels.contains { $0 > 0 })
    // Strokes sit at patch centres (layers) or patch corners (shifted pass), in output pixels: S = 128,
    // padding (128 − 75)/2 = 26 left, (128 − 41)/2 = 43 top.
    let first = painting.record.strokes[0]
    #expect(first.centerX == 64 - 26 && first.centerY == 64 - 43 && first.width == 0.6 * 128 / 2 * 2)
    for s in painting.record.strokes where s.layer == 2 && !s.shifted {
        #expect(s.centerX == Float(s.patchColumn * 32 + 16 - 26) && s.centerY == Float(s.patchRow * 32 + 16 - 43))
        #expect(abs(s.width - 0.6 * 32) < 1e-4 && abs(s.height - 0.4 * 32) < 1e-4 && abs(s.angle - 18) < 1e-4)
    }
    for s in painting.record.strokes where s.shifted {
        #expect(s.centerX == Float(s.patchColumn * 32 - 26) && s.centerY == Float(s.patchRow * 32 - 43))
    }
    // Groups are painted in the order (even, even), (odd, odd), (odd, even), (even, odd).
    let layer1 = painting.record.strokes.filter { $0.layer == 1 }
    #expect(layer1.map { [$0.patchRow, $0.patchColumn] } == [[0, 0], [1, 1], [1, 0], [0, 1]])
    #expect(layer1.map(\.group) == [0, 1, 2, 3])
}

@Test func squareAndTinyImagesKeepTheirSize() throws {
    let painter = Painter(brushes: .oilPaint(size: 32))
    for (w, h) in [(1, 1), (32, 32), (33, 7), (17, 64)] {
        let painting = try painter.paint(gradientImage(width: w, height: h), predictor: centredStrokePredictor)
        #expect(painting.image.width == w && painting.image.height == h)
        let k = Painter.refinementCount(width: w, height: h)
        let expected = (0...k).map { 1 << (2 * $0) } + [((1 << k) + 1) * ((1 << k) + 1)]
        #expect(painting.record.strokesPerPass == expected)
    }
}

@Test func negativeDecisionsLeaveTheCanvasBlack() throws {
    let painting = try Painter(brushes: .oilPaint(size: 32)).paint(gradientImage(width: 50, height: 70)) { _, _, n in
        [PredictedStroke](repeating: PredictedStroke(x: 0.5, y: 0.5, w: 0.5, h: 0.5, theta: 0, decision: -0.1), count: n * 8)
    }
    #expect(painting.image.pixels.allSatisfy { $0 == 0 })
    #expect(painting.record.strokes.isEmpty)
}

@Test func coloursAreSampledFromTheTargetPatch() throws {
    // A flat image: every stroke whose sample point lies inside the image takes its colour.
    var image = RGBImage(width: 64, height: 64)
    for i in 0..<(64 * 64) { image.pixels[i] = 0.2; image.pixels[4096 + i] = 0.6; image.pixels[8192 + i] = 0.9 }
    let painting = try Painter(brushes: .oilPaint(size: 64), shiftedPass: false).paint(image, predictor: centredStrokePredictor)
    for s in painting.record.strokes {
        #expect(abs(s.red - 0.2) < 1e-6 && abs(s.green - 0.6) < 1e-6 && abs(s.blue - 0.9) < 1e-6)
    }
    // Covered pixels show colour × brush intensity.
    let centre = (painting.image[0, 32, 32], painting.image[1, 32, 32], painting.image[2, 32, 32])
    #expect(centre.0 > 0.2 * 0.75 && centre.0 <= 0.2 && centre.2 > 0.9 * 0.75 && centre.2 <= 0.9)
}

@Test func framesProgressAndThreadsAreConsistent() throws {
    let image = gradientImage(width: 70, height: 90)  // K = 2
    var perStroke: [PaintingFrame] = []
    var phases: [PaintProgress.Phase] = []
    let painter = Painter(brushes: .oilPaint(size: 64), threads: 2)
    let a = try painter.paint(
        image, predictor: centredStrokePredictor, frames: .perStrokeIndex,
        progress: { phases.append($0.phase) }, onFrame: { perStroke.append($0) })
    #expect(perStroke.count == 8 + 32 + 32 + 32)  // the reference's serial frame count for K = 2
    #expect(perStroke.last?.image == a.image)
    #expect(perStroke.enumerated().allSatisfy { $0.offset == $0.element.sequence })
    #expect(phases.count == 4 * 2 + 1 && phases.last == .finished)

    var perGroup = 0, perPass = 0
    _ = try painter.paint(image, predictor: centredStrokePredictor, frames: .perGroup, onFrame: { _ in perGroup += 1 })
    _ = try painter.paint(image, predictor: centredStrokePredictor, frames: .perPass, onFrame: { _ in perPass += 1 })
    #expect(perGroup == 1 + 4 + 4 + 4 && perPass == 4)

    let single = try Painter(brushes: .oilPaint(size: 64), predictorBatchSize: 3, threads: 1)
        .paint(image, predictor: centredStrokePredictor)
    #expect(single.image == a.image && single.record == a.record)
}

@Test func predictorMustReturnEightStrokesPerPatch() {
    #expect(throws: PainterError.predictorCount(expected: 8, got: 7)) {
        try Painter(brushes: .oilPaint(size: 16)).paint(gradientImage(width: 8, height: 8)) { _, _, n in
            [PredictedStroke](repeating: PredictedStroke(x: 0, y: 0, w: 0, h: 0, theta: 0, decision: 0), count: n * 8 - 1)
        }
    }
    #expect(throws: PainterError.emptyImage(width: 0, height: 5)) {
        try Painter().paint(RGBImage(width: 0, height: 5), predictor: centredStrokePredictor)
    }
}

@Test func layerCapLimitsThePasses() throws {
    let painting = try Painter(brushes: .oilPaint(size: 32), maxLayers: 2)
        .paint(gradientImage(width: 100, height: 100), predictor: centredStrokePredictor)  // K = 2
    #expect(painting.record.strokesPerPass == [1, 4, 9])
    #expect(painting.image.width == 100)
}

@Test func recordExportsJSONAndSVG() throws {
    let painting = try Painter(brushes: .oilPaint(size: 32)).paint(gradientImage(width: 40, height: 30), predictor: centredStrokePredictor)
    let json = try painting.record.jsonData()
    #expect(try PaintingRecord.decode(json: json) == painting.record)
    let svg = painting.record.svg()
    #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<ellipse").count - 1 == painting.record.strokes.count)
    #expect(svg.contains("viewBox=\"0 0 40 30\""))
    let rects = painting.record.svg(shape: .rectangle)
    #expect(rects.components(separatedBy: "<rect").count - 1 == painting.record.strokes.count + 1)
}

@Test func predictedStrokesJoinTheTwoHeads() {
    let strokes = PredictedStroke.strokes(shapes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], logits: [-1, 2])
    #expect(strokes == [PredictedStroke(x: 1, y: 2, w: 3, h: 4, theta: 5, decision: -1),
                        PredictedStroke(x: 6, y: 7, w: 8, h: 9, theta: 10, decision: 2)])
}

@Test func detailLayersAddFinerPassesAtTheImageResolution() throws {
    let image = gradientImage(width: 64, height: 64)  // K = 1, S = 64
    let painting = try Painter(brushes: .oilPaint(size: 64), detailLayers: 1).paint(image, predictor: centredStrokePredictor)
    // Layers 0, 1 and the detail layer 2 (16 patches of 16 px), then the shifted pass on the detail grid (5 × 5).
    #expect(painting.record.layers == 3)
    #expect(painting.record.strokesPerPass == [1, 4, 16, 25])
    for s in painting.record.strokes where s.layer == 2 && !s.shifted {
        #expect(s.centerX == Float(s.patchColumn * 16 + 8) && abs(s.width - 0.6 * 16) < 1e-4)
    }
}

@Test func detailShareKeepsTheWorstPatchesOfDetailLayersOnly() throws {
    // A flat grey photo with one bright 16×16 square at (32, 16): after the paper's layers, the detail patches
    // over the square are the furthest from it.
    var image = RGBImage(width: 64, height: 64, pixels: [Float](repeating: 0.5, count: 3 * 64 * 64))
    for c in 0..<3 { for y in 16..<32 { for x in 32..<48 { image[c, y, x] = 1 } } }
    var seenCounts: [Int] = []
    let recording: StrokePredictor = { targets, canvases, count in
        seenCounts.append(count)
        return centredStrokePredictor(targets, canvases, count)
    }
    let painter = Painter(brushes: .oilPaint(size: 64), detailLayers: 1, detailShare: 0.25)
    let painting = try painter.paint(image, predictor: recording)
    // The paper's layers keep every patch; the detail layer ⌈0.25·16⌉ = 4 of 16, its shifted pass ⌈0.25·25⌉ = 7.
    #expect(seenCounts == [1, 4, 4, 7])
    #expect(painting.record.strokesPerPass == [1, 4, 4, 7])
    let detail = painting.record.strokes.filter { $0.layer == 2 && !$0.shifted }
    #expect(detail.contains { $0.patchRow == 1 && $0.patchColumn == 2 }, "the square's patch is painted")

    // The ranking itself: largest squared error first, ties to the lower index, among the eligible patches only.
    let errors: [Float] = [0, 2, 0.5, 0.5], all = [true, true, true, true]
    #expect(Painter.worstPatches(errors: errors, among: all, share: 0.5) == [false, true, true, false])
    #expect(Painter.worstPatches(errors: errors, among: all, share: 0.25) == [false, true, false, false])
    #expect(Painter.worstPatches(errors: errors, among: all, share: 1) == [true, true, true, true])
    #expect(Painter.worstPatches(errors: errors, among: [true, false, true, true], share: 0.5) == [false, false, true, true])
}

@Test func groundColourFillsTheCanvasBeforeTheFirstStroke() throws {
    var image = RGBImage(width: 40, height: 24)
    for i in 0..<(40 * 24) { image.pixels[i] = 0.2; image.pixels[40 * 24 + i] = 0.4; image.pixels[2 * 40 * 24 + i] = 0.6 }
    let nothing: StrokePredictor = { _, _, count in
        (0..<(count * 8)).map { _ in PredictedStroke(x: 0.5, y: 0.5, w: 0.5, h: 0.5, theta: 0, decision: -1) }
    }
    let mean = SIMD3<Float>(0.2, 0.4, 0.6)
    #expect(CanvasGround.mean.color(of: image) == mean)
    for (ground, colour) in [(CanvasGround.black, SIMD3<Float>.zero), (.white, SIMD3(repeating: 1)), (.mean, mean)] {
        let painting = try Painter(brushes: .oilPaint(size: 32), ground: ground).paint(image, predictor: nothing)
        #expect(painting.image[0, 3, 5] == colour.x && painting.image[1, 20, 39] == colour.y && painting.image[2, 0, 0] == colour.z)
    }
}

@Test func borderStrokesSampleTheImageNotBlackPadding() throws {
    // A uniform mid-grey 48×48 photo, padded to a 64² square (8 px each side). Strokes centred in the padding
    // (x, y = 0.2 of the corner patch: the centre lands 1.6 px outside the image) but reaching into it sample their
    // colour there: with edge replication that is grey (every pixel stays ≥ 0.43, the brush's shading of grey);
    // black padding painted a black dab of 261 channel values below 0.2 into the photo.
    var image = RGBImage(width: 48, height: 48)
    for i in image.pixels.indices { image.pixels[i] = 0.5 }
    let nearEdges: StrokePredictor = { _, _, count in
        (0..<(count * 8)).map { i in PredictedStroke(x: 0.2, y: 0.2, w: 0.5, h: 0.5, theta: 0, decision: i % 8 == 0 ? 1 : -1) }
    }
    for shifted in [false, true] {
    let painting = try Painter(brushes: .oilPaint(size: 32), ground: .mean, shiftedPass: shifted).paint(image, predictor: nearEdges)
    let darkest = painting.image.pixels.min() ?? 0
    #expect(darkest > 0.4, "shifted pass \(shifted): darkest pixel \(darkest)")
    }
}
