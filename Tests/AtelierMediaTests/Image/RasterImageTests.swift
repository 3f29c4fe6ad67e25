// RasterImage: reading and writing through the format dispatch and its errors, the planar Float bridge, channel
// conversion, resizing, cropping, padding and grids. Per-format decoding is in ImageDecoderTests.
import Foundation
import Testing
@testable import AtelierMedia
import TestSupport

extension MediaTests {
@Suite("Media.RasterImage")
struct RasterImageTests {
    /// A deterministic test pattern with distinct values per pixel and channel.
    static func pattern(width: Int, height: Int, channels: Int) -> RasterImage {
        let pixels = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    // MARK: - Reading and writing

    @Test(arguments: [1, 3, 4])
    func pngRoundTripIsExact(channels: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("image.png")
        let image = Self.pattern(width: 7, height: 5, channels: channels)
        try image.writePNG(to: url)
        #expect(try RasterImage.load(from: url) == image)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o044 } == 0o044)
    }

    /// Issue 11's hostile files: a 16-bit PGM that made stb over-read (also named .png) and a truncated RLE
    /// Radiance HDR that made it spin are refused by signature, before any decoder sees them.
    @Test func formatsOutsideTheSignatureListAreRefused() {
        var pgm = Data("P5\n8000 8000\n65535\n".utf8)
        pgm.append(Data(count: 64))
        var hdr = Data("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 16\n".utf8)
        hdr.append(contentsOf: [0x02, 0x02, 0x00, 0x10])
        for (bytes, name) in [(pgm, "bad.png"), (hdr, "bad.hdr"), (Data("P6\n1 1\n255\n\0\0\0".utf8), "tiny.ppm")] {
            #expect(throws: ImageError.self) { try RasterImage.decode(bytes, source: name) }
            do { _ = try RasterImage.decode(bytes, source: name) } catch {
                #expect(error.description.contains(name) && error.description.contains("unrecognised signature"))
            }
        }
        #expect(RasterImage.signatureFormat(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) == .png)
        #expect(RasterImage.signatureFormat(Data([0xFF, 0xD8, 0xFF, 0xE0])) == .jpeg)
        #expect(RasterImage.signatureFormat(Data("GIF89a".utf8)) == .gif && RasterImage.signatureFormat(Data("BM".utf8)) == .bmp)
    }

    @Test func loadConvertsChannelsOnRequest() throws {
        let rgb = RasterImage(width: 1, height: 1, channels: 3, pixels: [200, 100, 50])
        let png = try rgb.pngData()
        let gray = try RasterImage.decode(png, source: "mem", channels: 1)
        #expect(gray.channels == 1)
        let rgba = try RasterImage.decode(png, source: "mem", channels: 4)
        #expect(rgba.pixels == [200, 100, 50, 255])
    }

    @Test func missingEmptyAndNonImageFilesThrowNamingTheFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let missing = scratch.file("missing.png")
        #expect(throws: ImageError.fileNotFound(path: missing.path)) { try RasterImage.load(from: missing) }

        let empty = scratch.file("empty.png")
        try Data().write(to: empty)
        #expect(throws: ImageError.emptyFile(path: empty.path)) { try RasterImage.load(from: empty) }

        let text = scratch.file("notes.png")
        try Data("hello, not a picture".utf8).write(to: text)
        #expect {
            try RasterImage.load(from: text)
        } throws: { error in
            guard let error = error as? ImageError, case .notAnImage = error else { return false }
            return error.description.contains(text.path)
        }
    }

    /// Headers beyond the limits are refused from the header alone, before any pixel memory is allocated.
    @Test(arguments: [(17_000, 10), (10, 16_385), (12_000, 12_000)])
    func oversizedImageIsRefused(width: Int, height: Int) throws {
        let png = ImageFiles.pngHeader(width: UInt32(width), height: UInt32(height))
        #expect(throws: ImageError.tooLarge(path: "huge.png", width: width, height: height)) {
            try RasterImage.decode(png, source: "huge.png")
        }
        #expect(ImageError.tooLarge(path: "huge.png", width: width, height: height).description.contains("16384"))
    }

    @Test func writingEmptyImageOrIntoMissingDirectoryThrows() {
        let empty = RasterImage(width: 0, height: 3, channels: 1)
        #expect(throws: ImageError.self) { try empty.writePNG(to: URL(fileURLWithPath: "/tmp/never.png")) }
        #expect {
            try Self.pattern(width: 2, height: 2, channels: 1).writePNG(to: URL(fileURLWithPath: "/nonexistent-atelier/x.png"))
        } throws: { ($0 as? ImageError)?.description.contains("/nonexistent-atelier/x.png") == true }
    }

    // MARK: - Float bridge and channels

    @Test func planarFloatsRoundTripEveryByte() {
        let image = RasterImage(width: 256, height: 1, channels: 1, pixels: (0...255).map(UInt8.init))
        let floats = image.planarFloats()
        #expect(floats.first == 0 && floats.last == 1)
        #expect(RasterImage(planar: floats, channels: 1, height: 1, width: 256) == image)
    }

    @Test func planarLayoutIsCHWAndClamps() {
        let image = RasterImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 51, 0, 255, 102])
        #expect(image.planarFloats() == [1, 0, 0, 1, 0.2, 0.4])
        let clamped = RasterImage(planar: [-0.5, 1.5, .nan, 0.5, .infinity, -.infinity], channels: 3, height: 1, width: 2)
        #expect(clamped.pixels == [0, 0, 255, 255, 128, 0])  // pixel 0 = (-0.5, NaN, ∞), pixel 1 = (1.5, 0.5, -∞)
    }

    @Test func channelConversions() {
        let rgb = RasterImage(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])
        #expect(rgb.converted(channels: 1).pixels == [76])  // 0.299 × 255
        #expect(rgb.converted(channels: 4).pixels == [255, 0, 0, 255])
        #expect(RasterImage(width: 1, height: 1, channels: 1, pixels: [9]).converted(channels: 3).pixels == [9, 9, 9])
        #expect(RasterImage(width: 1, height: 1, channels: 4, pixels: [1, 2, 3, 4]).converted(channels: 3).pixels == [1, 2, 3])
    }

    // MARK: - Resizing

    @Test func nearestUpscaleRepeatsPixels() {
        let image = RasterImage(width: 2, height: 2, channels: 1, pixels: [1, 2, 3, 4])
        #expect(image.resized(width: 4, height: 4, filter: .nearest).pixels == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    /// Matches PyTorch: F.interpolate(torch.tensor([[[[0., 255.]]]]), size=(1, 4), mode="bilinear",
    /// align_corners=False) == [0, 63.75, 191.25, 255].
    @Test func bilinearMatchesHalfPixelConvention() {
        let image = RasterImage(width: 2, height: 1, channels: 1, pixels: [0, 255])
        #expect(image.resized(width: 4, height: 1, filter: .bilinear).pixels == [0, 64, 191, 255])
    }

    @Test func areaDownscaleAveragesBlocks() {
        let image = RasterImage(width: 4, height: 2, channels: 1, pixels: [0, 10, 20, 30, 40, 50, 60, 70])
        #expect(image.resized(width: 2, height: 1, filter: .area).pixels == [25, 45])
        // A non-integer factor still preserves a constant image.
        let flat = RasterImage(width: 7, height: 5, channels: 3, fill: 77)
        for filter in [ResizeFilter.nearest, .bilinear, .area] {
            #expect(flat.resized(width: 3, height: 4, filter: filter) == RasterImage(width: 3, height: 4, channels: 3, fill: 77))
            #expect(flat.resized(width: 11, height: 9, filter: filter) == RasterImage(width: 11, height: 9, channels: 3, fill: 77))
        }
    }

    // MARK: - Layout

    @Test func cropAndPad() {
        let image = Self.pattern(width: 4, height: 3, channels: 3)
        let crop = image.cropped(x: 1, y: 1, width: 2, height: 2)
        #expect(crop.width == 2 && crop.height == 2)
        #expect(crop[0, 0, 2] == image[1, 1, 2] && crop[1, 1, 0] == image[2, 2, 0])
        let padded = image.padded(top: 1, left: 2, bottom: 0, right: 3, value: 9)
        #expect(padded.width == 9 && padded.height == 4)
        #expect(padded[0, 0, 0] == 9 && padded[8, 3, 1] == 9)
        #expect(padded.cropped(x: 2, y: 1, width: 4, height: 3) == image)
        #expect(Self.pattern(width: 6, height: 6, channels: 1).centerCropped(width: 2, height: 2)
            == Self.pattern(width: 6, height: 6, channels: 1).cropped(x: 2, y: 2, width: 2, height: 2))
    }

    @Test func gridTilesRowByRow() {
        let a = RasterImage(width: 2, height: 2, channels: 1, fill: 10)
        let b = RasterImage(width: 2, height: 2, channels: 3, fill: 20)
        let c = RasterImage(width: 1, height: 1, channels: 1, fill: 30)
        let sheet = RasterImage.grid([a, b, c], columns: 2, padding: 1, background: 255)
        #expect(sheet.width == 2 * 3 + 1 && sheet.height == 2 * 3 + 1 && sheet.channels == 3)
        #expect(sheet[0, 0, 0] == 255)
        #expect(sheet[1, 1, 0] == 10 && sheet[2, 2, 2] == 10)
        #expect(sheet[4, 1, 1] == 20 && sheet[3, 1, 0] == 255)
        #expect(sheet[1, 4, 0] == 30 && sheet[2, 4, 0] == 255)
        #expect(sheet[4, 4, 0] == 255)  // the empty fourth cell keeps the background
    }
}
}
