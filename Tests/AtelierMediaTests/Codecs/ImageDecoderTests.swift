// The per-format decoders behind RasterImage.decode: libpng (bit depths, gray+alpha, palettes), TurboJPEG (RGB,
// gray, CMYK refused), giflib (first frame onto its screen, transparency, interlacing) and the Swift BMP reader;
// then hostile files of every format: truncated at every length, headers announcing huge sizes, broken structure.
import CMedia
import Foundation
import Testing
@testable import AtelierMedia

extension MediaTests {
@Suite("Media.ImageDecoders")
struct ImageDecoderTests {
    /// The error `decode` throws, or nil if it succeeds.
    static func failure(_ bytes: Data, _ source: String = "test") -> ImageError? {
        do { _ = try RasterImage.decode(bytes, source: source); return nil } catch { return error }
    }

    // MARK: - PNG

    /// 16-bit samples become v / 257 rounded (sRGB assumed, no gamma curve): 0x1234 → 18, 0xFFFF → 255, 0x80FF → 129.
    @Test func sixteenBitPNGIsReducedToEightBits() throws {
        let samples: [UInt16] = [0, 0x1234, 0x80FF, 0xFFFF, 257 * 77, 257 * 200]
        let row = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let gray = try ImageFiles.png(width: 6, height: 1, bitDepth: 16, colorType: 0, rows: [row])
        let expected = samples.map { UInt8((Double($0) / 257).rounded()) }
        #expect(try RasterImage.decode(gray, source: "gray16.png") == RasterImage(width: 6, height: 1, channels: 1, pixels: expected))
        let rgb = try ImageFiles.png(width: 2, height: 1, bitDepth: 16, colorType: 2, rows: [row])
        #expect(try RasterImage.decode(rgb, source: "rgb16.png").pixels == expected)
    }

    @Test func grayAlphaBecomesRGBAAndPalettesExpand() throws {
        let grayAlpha = try ImageFiles.png(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[10, 255, 200, 7]])
        #expect(try RasterImage.decode(grayAlpha, source: "ga.png")
            == RasterImage(width: 2, height: 1, channels: 4, pixels: [10, 10, 10, 255, 200, 200, 200, 7]))
        // Palette of 2 colours; tRNS makes colour 1 half transparent, so the image is RGBA.
        let palette = Data([255, 0, 0, 0, 0, 255])
        let opaque = try ImageFiles.png(width: 3, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1, 0]], chunks: [("PLTE", palette)])
        #expect(try RasterImage.decode(opaque, source: "p.png").pixels == [255, 0, 0, 0, 0, 255, 255, 0, 0])
        let translucent = try ImageFiles.png(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1]],
                                             chunks: [("PLTE", palette), ("tRNS", Data([255, 128]))])
        #expect(try RasterImage.decode(translucent, source: "t.png").pixels == [255, 0, 0, 255, 0, 0, 255, 128])
    }

    /// libpng expands an index past the end of the palette to black instead of reading beyond it.
    @Test func pngPaletteIndexBeyondThePaletteReadsAsBlack() throws {
        let png = try ImageFiles.png(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 9]], chunks: [("PLTE", Data([1, 2, 3]))])
        #expect(try RasterImage.decode(png, source: "p.png").pixels == [1, 2, 3, 0, 0, 0])
    }

    // MARK: - JPEG

    @Test func jpegDecodesRGBAndGrayWithinALevelOrTwo() throws {
        var rgb = RasterImage(width: 16, height: 8, channels: 3)
        for p in 0..<(16 * 8) { rgb.pixels[p * 3] = 200; rgb.pixels[p * 3 + 1] = 60; rgb.pixels[p * 3 + 2] = 30 }
        let decoded = try RasterImage.decode(ImageFiles.jpeg(rgb), source: "flat.jpg")
        #expect(decoded.width == 16 && decoded.height == 8 && decoded.channels == 3)
        #expect(zip(decoded.pixels, rgb.pixels).allSatisfy { abs(Int($0) - Int($1)) <= 2 })

        let gray = RasterImage(width: 9, height: 5, channels: 1, fill: 90)
        let progressive = try RasterImage.decode(ImageFiles.jpeg(gray, flags: TJFLAG_PROGRESSIVE), source: "gray.jpg")
        #expect(progressive.channels == 1 && progressive.width == 9 && progressive.pixels.allSatisfy { abs(Int($0) - 90) <= 1 })
    }

    @Test func cmykJPEGIsRefusedByName() throws {
        let cmyk = try ImageFiles.jpeg(RasterImage(width: 8, height: 8, channels: 4, fill: 30))
        #expect(throws: ImageError.unsupported(path: "print.jpg", reason: "CMYK JPEG")) { try RasterImage.decode(cmyk, source: "print.jpg") }
        #expect(ImageError.unsupported(path: "print.jpg", reason: "CMYK JPEG").description.contains("convert it"))
    }

    // MARK: - GIF

    static let colors: [[UInt8]] = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]

    /// The expected composition, computed pixel by pixel: inside the frame and not transparent → colour + opaque.
    static func composed(screen: (Int, Int), frame: (Int, Int, Int, Int), indices: [UInt8], transparent: Int?) -> [UInt8] {
        var out = [UInt8]()
        for y in 0..<screen.1 {
            for x in 0..<screen.0 {
                let fx = x - frame.0, fy = y - frame.1
                let inside = fx >= 0 && fy >= 0 && fx < frame.2 && fy < frame.3
                let index = inside ? Int(indices[fy * frame.2 + fx]) : -1
                let visible = index >= 0 && index != transparent
                out.append(contentsOf: visible ? colors[index] : [0, 0, 0])
                out.append(visible ? 255 : 0)
            }
        }
        return out
    }

    @Test(arguments: [false, true])
    func gifFirstFrameIsComposedWithTransparency(interlaced: Bool) throws {
        let frame = (2, 1, 5, 9)
        let indices = (0..<45).map { (i: Int) -> UInt8 in UInt8((i * 7 + i / 5) % 4) }
        let gif = try ImageFiles.gif(screen: (8, 11), frame: frame, colors: Self.colors, indices: indices, transparent: 2,
                                     interlaced: interlaced, localMap: interlaced)
        let image = try RasterImage.decode(gif, source: "a.gif")
        #expect(image.width == 8 && image.height == 11 && image.channels == 4)
        #expect(image.pixels == Self.composed(screen: (8, 11), frame: frame, indices: indices, transparent: 2))
    }

    @Test func opaqueFullScreenGIFIsRGBAndAnimationsGiveTheirFirstFrame() throws {
        let indices: [UInt8] = [0, 1, 2, 3, 3, 2]
        let gif = try ImageFiles.gif(screen: (3, 2), frame: (0, 0, 3, 2), colors: Self.colors, indices: indices)
        #expect(try RasterImage.decode(gif, source: "o.gif") == RasterImage(width: 3, height: 2, channels: 3, pixels: indices.flatMap { Self.colors[Int($0)] }))
        let frames = AnimationTests.frames()
        let animation = try Animation(frames: frames, frameDuration: 0.1).gifData(palette: .global)
        let first = try RasterImage.decode(animation, source: "anim.gif")
        #expect(first.width == 20 && first.height == 10 && first.channels == 3)
        // The red frame, not the green or blue one (giflib's quantiser keeps 5 bits per channel: 255 → 248).
        #expect(first[0, 9, 0] >= 240 && first[0, 9, 1] < 16 && first[5, 9, 2] < 16)
    }

    @Test func gifWithoutColourMapOrWithFrameOutsideScreenIsRefused() throws {
        let outside = try ImageFiles.gif(screen: (4, 4), frame: (2, 2, 3, 3), colors: Self.colors, indices: [UInt8](repeating: 1, count: 9))
        #expect(Self.failure(outside)?.description.contains("outside the 4×4 screen") == true)
        // Drop the global colour table: clear the flag in the screen descriptor and cut its 12 bytes.
        var bare = try ImageFiles.gif(screen: (2, 2), frame: (0, 0, 2, 2), colors: Self.colors, indices: [0, 1, 2, 3])
        try #require(bare[10] & 0x80 != 0)
        bare[10] &= 0x7F
        bare.removeSubrange(13..<25)
        #expect(Self.failure(bare)?.description.contains("no colour map") == true)
    }

    // MARK: - BMP

    @Test(arguments: [false, true])
    func bmpTwentyFourAndThirtyTwoBitRowsInEitherOrder(topDown: Bool) throws {
        // 3×2: rows top first, blue-green-red per pixel.
        let bgr: [[UInt8]] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14, 15, 16, 17, 18]]
        let expected = RasterImage(width: 3, height: 2, channels: 3, pixels: [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10, 15, 14, 13, 18, 17, 16])
        #expect(try RasterImage.decode(ImageFiles.bmp(width: 3, height: 2, bits: 24, rows: bgr, topDown: topDown), source: "a.bmp") == expected)
        let bgrx = bgr.map { row in stride(from: 0, to: row.count, by: 3).flatMap { row[$0..<($0 + 3)] + [0xEE] } }
        #expect(try RasterImage.decode(ImageFiles.bmp(width: 3, height: 2, bits: 32, rows: bgrx, topDown: topDown), source: "b.bmp") == expected)
    }

    @Test func bmpPalettedDecodesAndBadIndicesOrRLEAreRefused() throws {
        let palette: [[UInt8]] = [[0, 0, 255, 0], [0, 255, 0, 0]]  // red, green
        let paletted = ImageFiles.bmp(width: 3, height: 1, bits: 8, rows: [[0, 1, 0]], palette: palette)
        #expect(try RasterImage.decode(paletted, source: "p.bmp").pixels == [255, 0, 0, 0, 255, 0, 255, 0, 0])
        let badIndex = ImageFiles.bmp(width: 3, height: 1, bits: 8, rows: [[0, 2, 0]], palette: palette)
        #expect(Self.failure(badIndex)?.description.contains("colour 2 of a 2-colour palette") == true)
        let rle = ImageFiles.bmp(width: 3, height: 1, bits: 8, rows: [[0, 1, 0]], palette: palette, compression: 1)
        #expect(throws: ImageError.unsupported(path: "r.bmp", reason: "RLE-compressed BMP (only uncompressed 8-, 24- and 32-bit BMPs are read)")) {
            try RasterImage.decode(rle, source: "r.bmp")
        }
        let fields = ImageFiles.bmp(width: 1, height: 1, bits: 32, rows: [[1, 2, 3, 4]], compression: 3)
        #expect(Self.failure(fields).map { if case .unsupported = $0 { true } else { false } } == true)
        let fourBit = ImageFiles.bmp(width: 2, height: 1, bits: 4, rows: [[0x01]], palette: palette)
        #expect(Self.failure(fourBit)?.description.contains("4-bit BMP") == true)
    }

    // MARK: - Hostile files

    /// One small valid file per format.
    static func samples() throws -> [(name: String, bytes: Data)] {
        let rgb = RasterImageTests.pattern(width: 9, height: 7, channels: 3)
        let indices = (0..<20).map { UInt8($0 % 4) }
        return [
            ("png", try rgb.pngData()),
            ("16-bit png", try ImageFiles.png(width: 2, height: 2, bitDepth: 16, colorType: 0, rows: [[1, 2, 3, 4], [5, 6, 7, 8]])),
            ("jpeg", try ImageFiles.jpeg(rgb)),
            ("progressive jpeg", try ImageFiles.jpeg(rgb, flags: TJFLAG_PROGRESSIVE)),
            ("gif", try ImageFiles.gif(screen: (6, 5), frame: (1, 1, 5, 4), colors: colors, indices: indices, transparent: 0, interlaced: true)),
            ("bmp", ImageFiles.bmp(width: 2, height: 2, bits: 24, rows: [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])),
        ]
    }

    /// Every prefix of every sample either throws an ImageError or (when only a trailer is missing) decodes to
    /// exactly the full file's image: never a partial image, a trap or an over-read.
    @Test func truncatedFilesThrowOrDecodeCompletely() throws {
        for (name, bytes) in try Self.samples() {
            let full = try RasterImage.decode(bytes, source: name)
            var refused = 0
            for length in 1..<bytes.count {
                do {
                    let image = try RasterImage.decode(bytes.prefix(length), source: name)
                    #expect(image == full, "\(name) cut to \(length) of \(bytes.count) bytes decoded to another image")
                } catch {
                    refused += 1
                    #expect(error.path == name)
                }
            }
            // Nearly all prefixes lack pixel data; only the trailer (IEND, EOI, GIF trailer) may go missing.
            #expect(refused >= bytes.count - 20, "\(name): only \(refused) of \(bytes.count - 1) prefixes refused")
        }
    }

    /// Headers announcing ~100000² (JPEG and GIF store 16-bit sizes, so 65000²) are refused as too large from a
    /// file of a few hundred bytes: the size is checked before any pixel buffer exists.
    @Test func hugeHeadersAreRefusedAsTooLarge() throws {
        #expect(Self.failure(ImageFiles.pngHeader(width: 100_000, height: 100_000))
            == .tooLarge(path: "test", width: 100_000, height: 100_000))
        // JPEG: patch the frame header (SOF0: FF C0, length, precision, height, width).
        var jpeg = try ImageFiles.jpeg(RasterImage(width: 8, height: 8, channels: 3))
        let sof = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])  // 65000 × 65000
        #expect(Self.failure(jpeg) == .tooLarge(path: "test", width: 65_000, height: 65_000))
        // GIF: the logical screen's width and height follow the 6-byte signature, little-endian.
        var gif = try ImageFiles.gif(screen: (2, 2), frame: (0, 0, 2, 2), colors: Self.colors, indices: [0, 1, 2, 3])
        gif.replaceSubrange(6..<10, with: [0xE8, 0xFD, 0xE8, 0xFD])
        #expect(Self.failure(gif) == .tooLarge(path: "test", width: 65_000, height: 65_000))
        var bmp = ImageFiles.bmp(width: 1, height: 1, bits: 24, rows: [[1, 2, 3]])
        bmp.replaceSubrange(18..<26, with: [0xA0, 0x86, 0x01, 0x00, 0xA0, 0x86, 0x01, 0x00])  // 100000 × 100000
        #expect(Self.failure(bmp) == .tooLarge(path: "test", width: 100_000, height: 100_000))
    }

    /// Signatures followed by garbage, and zero sizes, come back as typed errors naming the file.
    @Test func signaturesFollowedByGarbageAreRefused() throws {
        let garbage = Data((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
        for head in [Data(PNGChunks.signature), Data([0xFF, 0xD8, 0xFF]), Data("GIF89a".utf8), Data("BM".utf8)] {
            let error = Self.failure(head + garbage, "junk")
            #expect(error?.path == "junk")
            switch error {
            case .notAnImage?, .unsupported?, .tooLarge?: break  // garbage read as a size can be a huge one
            default: Issue.record("\(head.prefix(3).map { $0 }): \(String(describing: error))")
            }
        }
        #expect(Self.failure(ImageFiles.pngHeader(width: 0, height: 5))?.description.contains("test") == true)
    }
}
}
