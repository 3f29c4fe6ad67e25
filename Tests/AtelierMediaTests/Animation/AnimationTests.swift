// Animation: GIFs reopened with giflib's decoder, APNGs checked chunk by chunk and decoded as plain PNGs.
import CMedia
import Foundation
import Testing
@testable import AtelierMedia
import TestSupport

extension MediaTests {
@Suite("Media.Animation")
struct AnimationTests {
    /// Three flat frames (red, green, blue) with a white square that moves.
    static func frames(width: Int = 20, height: Int = 10) -> [RasterImage] {
        let colors: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
        return colors.enumerated().map { index, color in
            var frame = RasterImage(width: width, height: height, channels: 3)
            for y in 0..<height {
                for x in 0..<width {
                    let white = (x / 4 == index) && y < 4
                    for c in 0..<3 { frame[x, y, c] = white ? 255 : color[c] }
                }
            }
            return frame
        }
    }

    /// Decodes `url` with giflib's slurp API and hands the open file to `body`.
    static func withDecodedGIF(_ url: URL, _ body: (UnsafeMutablePointer<GifFileType>) throws -> Void) throws {
        var status: Int32 = 0
        let gif = try #require(DGifOpenFileName(url.path, &status), "DGifOpenFileName failed: \(status)")
        defer { DGifCloseFile(gif, &status) }
        try #require(DGifSlurp(gif) == GIF_OK, "DGifSlurp failed: \(gif.pointee.Error)")
        try body(gif)
    }

    /// RGB of pixel (x, y) of saved image `index`, through its local or the global colour map.
    static func color(_ gif: UnsafeMutablePointer<GifFileType>, image index: Int, x: Int, y: Int) -> [UInt8] {
        let saved = gif.pointee.SavedImages[index]
        let map = saved.ImageDesc.ColorMap ?? gif.pointee.SColorMap!
        let entry = map.pointee.Colors[Int(saved.RasterBits[y * Int(gif.pointee.SWidth) + x])]
        return [entry.Red, entry.Green, entry.Blue]
    }

    static func isClose(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        zip(a, b).allSatisfy { abs(Int($0) - Int($1)) <= 8 }  // median cut works on 5-bit colour
    }

    @Test(arguments: [Animation.GIFPalette.perFrame, .global])
    func gifReopensWithFramesDelayAndLoop(palette: Animation.GIFPalette) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("walk.gif")
        let frames = Self.frames()
        try Animation(frames: frames, frameDuration: 0.25).writeGIF(to: url, palette: palette)

        try Self.withDecodedGIF(url) { gif in
            #expect(gif.pointee.ImageCount == 3)
            #expect(gif.pointee.SWidth == 20 && gif.pointee.SHeight == 10)
            #expect((gif.pointee.SColorMap != nil) == (palette == .global))
            for i in 0..<3 {
                var control = GraphicsControlBlock()
                #expect(DGifSavedExtensionToGCB(gif, Int32(i), &control) == GIF_OK)
                #expect(control.DelayTime == 25)
                for (x, y) in [(0, 0), (19, 9), (i * 4 + 1, 1), (10, 8)] {
                    let expected = Array(frames[i].pixels[((y * 20 + x) * 3)..<((y * 20 + x) * 3 + 3)])
                    #expect(Self.isClose(Self.color(gif, image: i, x: x, y: y), expected), "frame \(i) (\(x), \(y))")
                }
            }
            // NETSCAPE2.0 extension before the first image: loop count 0 (forever).
            let first = gif.pointee.SavedImages[0]
            let blocks = (0..<Int(first.ExtensionBlockCount)).map { first.ExtensionBlocks[$0] }
            let application = try #require(blocks.firstIndex { $0.Function == APPLICATION_EXT_FUNC_CODE })
            let name = String(decoding: UnsafeBufferPointer(start: blocks[application].Bytes, count: Int(blocks[application].ByteCount)), as: UTF8.self)
            #expect(name == "NETSCAPE2.0")
            let loop = blocks[application + 1]
            #expect(Array(UnsafeBufferPointer(start: loop.Bytes, count: Int(loop.ByteCount))) == [1, 0, 0])
        }
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["walk.gif"])
    }

    @Test func gifAcceptsGrayAndRGBAFrames() throws {
        let frames = [RasterImage(width: 3, height: 2, channels: 1, fill: 128), RasterImage(width: 3, height: 2, channels: 4, fill: 200)]
        let data = try Animation(frames: frames, loopCount: 3).gifData()
        #expect(data.starts(with: Array("GIF89a".utf8)))
    }

    @Test func invalidAnimationsThrowNamingTheFile() {
        let url = URL(fileURLWithPath: "/tmp/atelier-never-written.gif")
        #expect(throws: ImageError.invalidAnimation(path: url.path, reason: "no frames")) {
            try Animation(frames: []).writeGIF(to: url)
        }
        let mixed = [RasterImage(width: 2, height: 2, channels: 3), RasterImage(width: 3, height: 2, channels: 3)]
        #expect {
            try Animation(frames: mixed).writeAPNG(to: url)
        } throws: { error in
            guard let error = error as? ImageError, case .invalidAnimation = error else { return false }
            return error.description.contains(url.path) && error.description.contains("frame 1 is 3×2")
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func apngHasChunkSequenceAndDecodes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("walk.png")
        let frames = Self.frames()
        try Animation(frames: frames, frameDuration: 0.04, loopCount: 2).writeAPNG(to: url)
        let bytes = try Data(contentsOf: url)

        let chunks = try #require(PNGChunks.parse(bytes))
        #expect(chunks.map(\.type) == ["IHDR", "acTL", "fcTL", "IDAT", "fcTL", "fdAT", "fcTL", "fdAT", "IEND"])
        func uint32(_ data: Data, _ at: Int) -> UInt32 { data.dropFirst(at).prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }
        let actl = chunks[1].data
        #expect(uint32(actl, 0) == 3 && uint32(actl, 4) == 2)  // frames, plays
        // Sequence numbers run 0, 1, 2, ... across fcTL and fdAT.
        let sequence = chunks.filter { $0.type == "fcTL" || $0.type == "fdAT" }.map { uint32($0.data, 0) }
        #expect(sequence == [0, 1, 2, 3, 4])
        let fctl = chunks[2].data
        #expect(uint32(fctl, 4) == 20 && uint32(fctl, 8) == 10)
        #expect(fctl.dropFirst(20).prefix(4).elementsEqual([0, 40, 0x03, 0xE8]))  // 40 / 1000 s
        // Every CRC is right: recompute over type + data.
        var offset = 8
        for chunk in chunks {
            let stored = uint32(bytes, offset + 8 + chunk.data.count)
            #expect(stored == PNGChunks.crc(Data(chunk.type.utf8) + chunk.data), "\(chunk.type)")
            offset += 12 + chunk.data.count
        }

        // A plain PNG decoder (libpng without APNG support) sees frame 0.
        #expect(try RasterImage.load(from: url) == frames[0])
        // Frame 2 rebuilt as a standalone PNG from its fdAT payload decodes exactly.
        var standalone = Data(PNGChunks.signature)
        PNGChunks.append("IHDR", chunks[0].data, to: &standalone)
        PNGChunks.append("IDAT", chunks[7].data.dropFirst(4), to: &standalone)
        PNGChunks.append("IEND", Data(), to: &standalone)
        #expect(try RasterImage.decode(standalone, source: "frame2") == frames[2])
    }
}
}
