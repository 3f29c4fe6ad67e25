// BMP, parsed here with every offset checked against the file's length: the uncompressed (BI_RGB) 24-bit, 32-bit
// and 8-bit palettised variants, bottom-up (positive height) or top-down (negative height), with a
// BITMAPINFOHEADER or a later V4/V5 header. Layout: a 14-byte file header (`BM`, size, reserved, offset of the
// pixels), the info header (its own length first), an 8-bit file's palette of blue-green-red-0 quads, then rows of
// blue-green-red(-unused) pixels or palette indices, each padded to 4 bytes. RLE, bitfield masks, embedded
// JPEG/PNG, other depths and the OS/2 header are refused by name. The result is always RGB: BI_RGB's fourth byte
// is unused by definition, not alpha.
import Foundation

enum BMPDecoder {
    static func decode(_ bytes: Data, source: String) throws(ImageError) -> RasterImage {
        try bytes.withUnsafeBytes { raw in Result { () throws(ImageError) in try decode(raw, source: source) } }.get()
    }

    private static func decode(_ raw: UnsafeRawBufferPointer, source: String) throws(ImageError) -> RasterImage {
        func malformed(_ reason: String) -> ImageError { .notAnImage(path: source, reason: "BMP " + reason) }
        func unsupported(_ what: String) -> ImageError {
            .unsupported(path: source, reason: "\(what) BMP (only uncompressed 8-, 24- and 32-bit BMPs are read)")
        }
        // Little-endian fields; callers check `offset + width <= raw.count` first.
        func uint(_ offset: Int, _ width: Int) -> Int {
            (0..<width).reduce(0) { $0 | Int(raw[offset + $1]) << (8 * $1) }
        }
        guard raw.count >= 18 else { throw malformed("header cut short at \(raw.count) bytes") }
        let pixelOffset = uint(10, 4), headerSize = uint(14, 4)
        if headerSize == 12 { throw unsupported("OS/2 (12-byte header)") }
        guard headerSize >= 40, headerSize <= raw.count - 14 else {
            throw malformed("info header of \(headerSize) bytes in a \(raw.count)-byte file")
        }
        let width = Int(Int32(truncatingIfNeeded: uint(18, 4)))
        let signedHeight = Int(Int32(truncatingIfNeeded: uint(22, 4)))
        let planes = uint(26, 2), bits = uint(28, 2), compression = uint(30, 4), colorsUsed = uint(46, 4)
        guard planes == 1 else { throw malformed("with \(planes) planes") }
        switch compression {
        case 0: break
        case 1, 2: throw unsupported("RLE-compressed")
        case 3, 6: throw unsupported("bitfield")
        case 4, 5: throw unsupported("JPEG- or PNG-compressed")
        default: throw malformed("compression \(compression)")
        }
        guard [8, 24, 32].contains(bits) else { throw unsupported("\(bits)-bit") }
        let height = abs(signedHeight), topDown = signedHeight < 0
        try RasterImage.checkSize(width: width, height: height, source: source)

        // The palette follows the info header; 0 colours used means all 2^8.
        let paletteStart = 14 + headerSize
        let paletteCount = bits == 8 ? (colorsUsed == 0 ? 256 : colorsUsed) : 0
        guard paletteCount <= 256 else { throw malformed("palette of \(paletteCount) colours") }
        let rowBytes = (width * bits + 31) / 32 * 4
        guard pixelOffset >= paletteStart + 4 * paletteCount, pixelOffset <= raw.count else {
            throw malformed("pixel data offset \(pixelOffset) outside \(paletteStart + 4 * paletteCount)…\(raw.count)")
        }
        guard rowBytes * height <= raw.count - pixelOffset else {
            throw malformed("cut short: \(height) rows of \(rowBytes) bytes need \(pixelOffset + rowBytes * height), "
                            + "the file has \(raw.count)")
        }

        var out = RasterImage(width: width, height: height, channels: 3)
        let bytesPerPixel = bits / 8
        try out.pixels.withUnsafeMutableBufferPointer { (pixels) throws(ImageError) in
            for y in 0..<height {
                let row = pixelOffset + (topDown ? y : height - 1 - y) * rowBytes
                for x in 0..<width {
                    // Blue-green-red, either in the row itself or in the palette entry it names.
                    var at = row + x * bytesPerPixel
                    if bits == 8 {
                        let index = Int(raw[at])
                        guard index < paletteCount else { throw malformed("pixel uses colour \(index) of a \(paletteCount)-colour palette") }
                        at = paletteStart + 4 * index
                    }
                    let target = (y * width + x) * 3
                    pixels[target] = raw[at + 2]
                    pixels[target + 1] = raw[at + 1]
                    pixels[target + 2] = raw[at]
                }
            }
        }
        return out
    }
}
