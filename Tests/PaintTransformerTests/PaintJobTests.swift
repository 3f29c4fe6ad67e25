import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import PaintTransformer
import TestSupport

// The `paint` entry point end to end on a generated picture with a tiny model: all three outputs appear, and bad
// input fails with one clear error and no files left behind.

@Test func paintWritesPaintingAnimationAndStrokes() throws {
    let scratch = try ScratchDirectory("paint-job")
    defer { scratch.remove() }
    let directory = scratch.url
    let input = directory.appendingPathComponent("photo.png")
    let photo = RGBImage.demoLandscape(size: 96)
    try RasterImage(planar: photo.pixels, channels: 3, height: 96, width: 96).cropped(x: 0, y: 0, width: 96, height: 70).writePNG(to: input)
    for (animation, strokes) in [("painting.gif", "strokes.json"), ("painting-anim.png", "strokes.svg")] {
        var options = PaintJobOptions(input: input, output: directory.appendingPathComponent("painting.png"))
        options.animation = directory.appendingPathComponent(animation)
        options.strokes = directory.appendingPathComponent(strokes)
        options.model = try tinyModel(in: directory)
        let summary = try PaintJob.run(options)
        #expect(summary.width == 96 && summary.height == 70 && summary.frames > 0)
        let painting = try RasterImage.load(from: options.output)
        #expect(painting.width == 96 && painting.height == 70)
        #expect(try Data(contentsOf: options.animation!).count > 0)
        let strokeData = try Data(contentsOf: options.strokes!)
        if strokes.hasSuffix(".json") {
            #expect(try PaintingRecord.decode(json: strokeData).strokes.count == summary.strokes)
        } else {
            #expect(String(decoding: strokeData, as: UTF8.self).hasPrefix("<svg"))
        }
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".partial") }
    #expect(leftovers.isEmpty)
}

@Test func paintFailsCleanlyOnBadInput() throws {
    let scratch = try ScratchDirectory("paint-job")
    defer { scratch.remove() }
    let directory = scratch.url
    let model = try tinyModel(in: directory)
    let notAnImage = directory.appendingPathComponent("notes.png")
    try Data("hello".utf8).write(to: notAnImage)
    let huge = directory.appendingPathComponent("huge.png")
    try RasterImage(width: 2100, height: 8, channels: 3).writePNG(to: huge)
    let good = directory.appendingPathComponent("good.png")
    try RasterImage(width: 40, height: 40, channels: 3, fill: 128).writePNG(to: good)
    let output = directory.appendingPathComponent("out.png")

    func failure(_ configure: (inout PaintJobOptions) -> Void) -> String? {
        var options = PaintJobOptions(input: good, output: output)
        options.model = model
        options.animation = directory.appendingPathComponent("out.gif")
        options.strokes = directory.appendingPathComponent("out.json")
        configure(&options)
        do { _ = try PaintJob.run(options); return nil } catch { return error.description }
    }
    let missing = failure { $0.input = directory.appendingPathComponent("missing.jpg") }
    #expect(missing?.contains("missing.jpg") == true)
    #expect(failure { $0.input = notAnImage } != nil)
    #expect(failure { $0.input = huge }?.contains("limit is 2048") == true)
    #expect(failure { $0.configuration = "small" }?.contains("small") == true)       // a tiny model file
    #expect(failure { $0.output = URL(fileURLWithPath: "/nonexistent-dir/out.png") }?.contains("cannot write") == true)
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files == ["good.png", "huge.png", "notes.png", "tiny.safetensors"])
}

@Test func twoBrushesFillBothGrainsAndTheSecondNeedsTheFirst() throws {
    let scratch = try ScratchDirectory("paint-job")
    defer { scratch.remove() }
    let directory = scratch.url
    // A tall solid bar and a wide solid bar as the two brushes.
    func bar(_ name: String, tall: Bool) throws -> URL {
        var pixels = [UInt8](repeating: 0, count: 32 * 32)
        for y in 0..<32 { for x in 0..<32 where tall ? (x >= 12 && x < 20) : (y >= 12 && y < 20) { pixels[y * 32 + x] = 255 } }
        let url = directory.appendingPathComponent(name)
        try RasterImage(width: 32, height: 32, channels: 1, pixels: pixels).writePNG(to: url)
        return url
    }
    var options = PaintJobOptions(input: nil, output: directory.appendingPathComponent("painting.png"))
    options.size = 64  // the shipped model: a fresh tiny one draws strokes too small to see
    options.horizontalBrush = try bar("wide.png", tall: false)
    #expect(throws: PaintJobError.self) { try PaintJob.run(options) }
    do { _ = try PaintJob.run(options) } catch { #expect("\(error)".contains("--brush-horizontal needs --brush")) }
    options.brush = try bar("tall.png", tall: true)
    let summary = try PaintJob.run(options)
    #expect(summary.strokes > 0)
    let both = try RasterImage.load(from: options.output).pixels
    // Swapping the two files swaps the slots, so the same strokes come out in the other brush.
    (options.brush, options.horizontalBrush) = (options.horizontalBrush, options.brush)
    _ = try PaintJob.run(options)
    #expect(try RasterImage.load(from: options.output).pixels != both)
}
