// A GIF's first frame through giflib, read record by record from memory. DGifSlurp is avoided: it decodes every
// frame before anything can be checked. Here the logical screen and the frame are checked against the size limits
// before their pixels are allocated, the frame must lie inside the screen and have a colour map (its own or the
// global one), and reading stops after the first frame. The frame is composed onto a transparent screen: the result
// is RGB when the frame covers the screen and has no transparent colour, else RGBA.
import CMedia
import Foundation

enum GIFDecoder {
    /// The bytes giflib's read callback draws from.
    private final class Reader {
        let bytes: Data
        var offset = 0
        init(_ bytes: Data) { self.bytes = bytes }
    }

    static func decode(_ bytes: Data, source: String) throws(ImageError) -> RasterImage {
        let context = Unmanaged.passRetained(Reader(bytes))
        defer { context.release() }
        var status: Int32 = 0
        // Copies up to `count` bytes; a short read is how giflib learns that the file is truncated.
        guard let gif = DGifOpen(context.toOpaque(), { gif, buffer, count in
            guard let gif, let buffer, count > 0, let userData = gif.pointee.UserData else { return 0 }
            let reader = Unmanaged<Reader>.fromOpaque(userData).takeUnretainedValue()
            let start = reader.bytes.startIndex + reader.offset
            let n = min(Int(count), reader.bytes.count - reader.offset)
            reader.bytes.copyBytes(to: buffer, from: start..<(start + n))
            reader.offset += n
            return Int32(n)
        }, &status) else {
            throw .notAnImage(path: source, reason: "GIF header: \(Animation.gifError(status))")
        }
        defer { DGifCloseFile(gif, nil) }
        func check(_ result: Int32, _ step: String) throws(ImageError) {
            guard result == GIF_OK else { throw .notAnImage(path: source, reason: "GIF \(step): \(Animation.gifError(gif.pointee.Error))") }
        }
        try RasterImage.checkSize(width: Int(gif.pointee.SWidth), height: Int(gif.pointee.SHeight), source: source)

        // Extensions before the first image: only the last graphics control block matters (its transparent colour).
        var transparent: Int?
        while true {
            var record = UNDEFINED_RECORD_TYPE
            try check(DGifGetRecordType(gif, &record), "record")
            switch record {
            case EXTENSION_RECORD_TYPE:
                var code: Int32 = 0
                var block: UnsafeMutablePointer<GifByteType>?
                try check(DGifGetExtension(gif, &code, &block), "extension")
                if code == GRAPHICS_EXT_FUNC_CODE, let block {
                    var control = GraphicsControlBlock()
                    // block[0] is the sub-block's length, then its bytes; giflib wants exactly 4.
                    guard DGifExtensionToGCB(Int(block[0]), block + 1, &control) == GIF_OK else {
                        throw .notAnImage(path: source, reason: "GIF graphics control extension of \(block[0]) bytes, not 4")
                    }
                    transparent = control.TransparentColor == NO_TRANSPARENT_COLOR ? nil : Int(control.TransparentColor)
                }
                while block != nil { try check(DGifGetExtensionNext(gif, &block), "extension") }
            case IMAGE_DESC_RECORD_TYPE:
                try check(DGifGetImageDesc(gif), "image descriptor")
                return try firstFrame(gif, transparent: transparent, source: source, check: check)
            case TERMINATE_RECORD_TYPE:
                throw .notAnImage(path: source, reason: "GIF ends before its first image")
            default:
                throw .notAnImage(path: source, reason: "GIF record of unknown type \(record.rawValue)")
            }
        }
    }

    /// Reads the frame whose descriptor was just read and composes it onto the screen.
    private static func firstFrame(_ gif: UnsafeMutablePointer<GifFileType>, transparent: Int?, source: String,
                                   check: (Int32, String) throws(ImageError) -> Void) throws(ImageError) -> RasterImage {
        let screenWidth = Int(gif.pointee.SWidth), screenHeight = Int(gif.pointee.SHeight)
        let frame = gif.pointee.Image
        let left = Int(frame.Left), top = Int(frame.Top), width = Int(frame.Width), height = Int(frame.Height)
        guard width > 0, height > 0, left + width <= screenWidth, top + height <= screenHeight else {
            throw .notAnImage(path: source, reason: "GIF frame \(width)×\(height) at (\(left), \(top)) is empty or lies "
                              + "outside the \(screenWidth)×\(screenHeight) screen")
        }
        guard let map = frame.ColorMap ?? gif.pointee.SColorMap, let entries = map.pointee.Colors else {
            throw .notAnImage(path: source, reason: "GIF frame has no colour map, local or global")
        }
        let colors = UnsafeBufferPointer(start: entries, count: Int(map.pointee.ColorCount))

        let covers = left == 0 && top == 0 && width == screenWidth && height == screenHeight
        let channels = transparent != nil || !covers ? 4 : 3
        var out = RasterImage(width: screenWidth, height: screenHeight, channels: channels)
        // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every 4th from 2, every 2nd from 1.
        let rows = frame.Interlace
            ? [(0, 8), (4, 8), (2, 4), (1, 2)].flatMap { stride(from: $0.0, to: height, by: $0.1) }
            : Array(0..<height)
        var line = [GifPixelType](repeating: 0, count: width)
        for row in rows {
            try check(line.withUnsafeMutableBufferPointer { DGifGetLine(gif, $0.baseAddress, Int32(width)) }, "pixels")
            for (x, index) in line.enumerated() where Int(index) != transparent {
                guard Int(index) < colors.count else {
                    throw .notAnImage(path: source, reason: "GIF pixel uses colour \(index) of a \(colors.count)-colour map")
                }
                let at = ((top + row) * screenWidth + left + x) * channels
                let color = colors[Int(index)]
                out.pixels[at] = color.Red
                out.pixels[at + 1] = color.Green
                out.pixels[at + 2] = color.Blue
                if channels == 4 { out.pixels[at + 3] = 255 }
            }
        }
        return out
    }
}
