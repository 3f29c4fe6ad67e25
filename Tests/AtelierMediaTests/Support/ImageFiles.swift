// Image files built for the decoder tests, each with the writer that knows the format best: PNGs chunk by chunk
// (so any bit depth and colour type can be made, and headers can lie), JPEGs with TurboJPEG's encoder, GIFs with
// giflib's encoder (known palette indices, transparency, interlacing, frames smaller than the screen) and BMPs
// byte by byte.
import CMedia
import Foundation
import Testing
@testable import AtelierMedia

enum ImageFiles {
    // MARK: - PNG

    /// A PNG of `rows` (already packed samples, big-endian for 16 bits, no filter byte) with the given IHDR fields,
    /// optional extra chunks before IDAT (PLTE, tRNS), compressed with zlib.
    static func png(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                    chunks: [(String, Data)] = []) throws -> Data {
        var raw = Data()
        for row in rows { raw.append(0); raw.append(contentsOf: row) }  // filter type 0: the row as it is
        var compressed = Data(count: Int(compressBound(UInt(raw.count))))
        var length = UInt(compressed.count)
        let status = compressed.withUnsafeMutableBytes { out in
            raw.withUnsafeBytes { compress2(out.bindMemory(to: UInt8.self).baseAddress, &length, $0.bindMemory(to: UInt8.self).baseAddress, UInt($0.count), 9) }
        }
        try #require(status == Z_OK)
        compressed.count = Int(length)
        var png = header(width: UInt32(width), height: UInt32(height), bitDepth: bitDepth, colorType: colorType)
        for (type, data) in chunks { PNGChunks.append(type, data, to: &png) }
        PNGChunks.append("IDAT", compressed, to: &png)
        PNGChunks.append("IEND", Data(), to: &png)
        return png
    }

    /// A gray PNG whose IHDR claims `width × height`, followed by an empty IDAT and IEND (a tiny file that lies).
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        var png = header(width: width, height: height, bitDepth: 8, colorType: 0)
        PNGChunks.append("IDAT", Data(), to: &png)
        PNGChunks.append("IEND", Data(), to: &png)
        return png
    }

    private static func header(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8) -> Data {
        var png = Data(PNGChunks.signature)
        var ihdr = PNGChunks.bigEndian(width, height)
        ihdr.append(contentsOf: [bitDepth, colorType, 0, 0, 0])
        PNGChunks.append("IHDR", ihdr, to: &png)
        return png
    }

    // MARK: - JPEG

    /// `image` (gray or RGB, or 4 channels read as CMYK) compressed by TurboJPEG.
    static func jpeg(_ image: RasterImage, quality: Int32 = 95, flags: Int32 = 0) throws -> Data {
        let handle = try #require(tjInitCompress())
        defer { tjDestroy(handle) }
        let (format, subsampling) = switch image.channels {
        case 1: (TJPF_GRAY, TJSAMP_GRAY)
        case 3: (TJPF_RGB, TJSAMP_444)
        default: (TJPF_CMYK, TJSAMP_444)
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(format.rawValue),
                        &buffer, &size, Int32(subsampling.rawValue), quality, flags)
        }
        defer { tjFree(buffer) }
        try #require(status == 0, "tjCompress2: \(String(cString: tjGetErrorStr2(handle)))")
        return Data(bytes: try #require(buffer), count: Int(size))
    }

    // MARK: - GIF

    /// A one-frame GIF: a `screen` of which the frame covers `frame` (x, y, width, height), pixels `indices`
    /// (row-major, frame-sized) into the 4-colour `colors`, given as the global map or as the frame's own.
    static func gif(screen: (Int, Int), frame: (Int, Int, Int, Int), colors: [[UInt8]], indices: [UInt8],
                    transparent: Int? = nil, interlaced: Bool = false, localMap: Bool = false) throws -> Data {
        let sink = ByteSink()
        var status: Int32 = 0
        let gif = try #require(sink.openGIFEncoder(&status))
        let entries = colors.map { GifColorType(Red: $0[0], Green: $0[1], Blue: $0[2]) }
        let map = entries.withUnsafeBufferPointer { GifMakeMapObject(Int32($0.count), $0.baseAddress) }
        defer { GifFreeMapObject(map) }
        EGifSetGifVersion(gif, true)
        var ok = EGifPutScreenDesc(gif, Int32(screen.0), Int32(screen.1), 8, 0, localMap ? nil : map) == GIF_OK
        if let transparent {
            var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false, DelayTime: 0,
                                               TransparentColor: Int32(transparent))
            var bytes = [UInt8](repeating: 0, count: 4)
            let length = EGifGCBToExtension(&control, &bytes)
            ok = ok && EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(length), bytes) == GIF_OK
        }
        let (left, top, width, height) = frame
        ok = ok && EGifPutImageDesc(gif, Int32(left), Int32(top), Int32(width), Int32(height), interlaced, localMap ? map : nil) == GIF_OK
        // An interlaced frame's rows are written in the order of its four passes.
        let rows = interlaced ? [(0, 8), (4, 8), (2, 4), (1, 2)].flatMap { stride(from: $0.0, to: height, by: $0.1) } : Array(0..<height)
        var pixels = indices
        for row in rows {
            ok = ok && pixels.withUnsafeMutableBufferPointer { EGifPutLine(gif, $0.baseAddress! + row * width, Int32(width)) } == GIF_OK
        }
        try #require(EGifCloseFile(gif, &status) == GIF_OK && ok, "giflib: \(status)")
        return sink.bytes
    }

    // MARK: - BMP

    /// A BMP with a 40-byte info header: `rows` top first (pixel bytes as stored, blue-green-red or indices),
    /// padded to 4 bytes and stored bottom-up unless `topDown`; `palette` quads for 8 bits.
    static func bmp(width: Int, height: Int, bits: Int, rows: [[UInt8]], topDown: Bool = false,
                    palette: [[UInt8]] = [], compression: UInt32 = 0) -> Data {
        var file = [UInt8]()
        func put(_ value: Int, _ count: Int) { file += (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let rowBytes = (width * bits + 31) / 32 * 4
        let pixelOffset = 14 + 40 + 4 * palette.count
        file += Array("BM".utf8)
        put(pixelOffset + rowBytes * height, 4); put(0, 4); put(pixelOffset, 4)
        put(40, 4); put(width, 4); put(topDown ? -height : height, 4); put(1, 2); put(bits, 2)
        put(Int(compression), 4); put(rowBytes * height, 4); put(2835, 4); put(2835, 4); put(palette.count, 4); put(0, 4)
        for quad in palette { file += quad }
        for row in (topDown ? rows : rows.reversed()) {
            file += row
            file += [UInt8](repeating: 0, count: rowBytes - row.count)
        }
        return Data(file)
    }
}
