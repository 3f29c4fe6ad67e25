// PNG reading and writing through libpng's simplified API (png_image): errors come back as a status and a message
// in the png_image, never as a longjmp through Swift frames. Reading asks for the file's own layout in 8 bits
// (gray, RGB or RGBA; gray+alpha and palettes with transparency become RGBA), so libpng converts 16-bit samples
// and palettes but no colour model. A 16-bit file without gamma information is taken as sRGB, not libpng's
// default linear, so its samples scale to 8 bits (v / 257, rounded) instead of being gamma-encoded.
import CMedia
import Foundation

enum PNGCodec {
    static func decode(_ bytes: Data, source: String) throws(ImageError) -> RasterImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        // libpng frees its state when finish_read ends or a call fails; this covers a throw in between.
        defer { png_image_free(&image) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw .notAnImage(path: source, reason: "PNG: \(message(image))") }
        let width = Int(image.width), height = Int(image.height)
        try RasterImage.checkSize(width: width, height: height, source: source)

        let channels = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0 ? 4
            : image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? 3 : 1
        image.format = format(channels: channels)
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw .notAnImage(path: source, reason: "PNG: \(message(image))") }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// An 8-bit PNG of the image (libpng also writes an sRGB chunk, which is what the bytes mean).
    static func encode(_ raster: RasterImage, source: String) throws(ImageError) -> Data {
        guard raster.width > 0, raster.height > 0 else {
            throw .encodingFailed(path: source, reason: "PNG needs a non-empty image, got \(raster.width)×\(raster.height)")
        }
        // libpng takes 32-bit sizes and a 32-bit signed row stride.
        guard raster.height <= Int(Int32.max), raster.width * raster.channels <= Int(Int32.max) else {
            throw .encodingFailed(path: source, reason: "\(raster.width)×\(raster.height) is too large for PNG")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(raster.width)
        image.height = UInt32(raster.height)
        image.format = format(channels: raster.channels)
        defer { png_image_free(&image) }
        // Deflate never grows data by more than a few bytes per 16 KiB block, and chunk headers add 12 bytes per
        // 8 KiB IDAT; if the guess is still short, libpng reports the size it needs and the second pass fits.
        let rawSize = raster.pixels.count + raster.height
        var capacity = rawSize + rawSize / 256 + 4096
        for _ in 0..<2 {
            var out = Data(count: capacity)
            var size = capacity
            let written = out.withUnsafeMutableBytes { buffer in
                raster.pixels.withUnsafeBytes { png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
            }
            if written != 0 {
                out.count = size
                return out
            }
            guard size > capacity else { break }
            capacity = size
        }
        throw .encodingFailed(path: source, reason: "libpng: \(message(image))")
    }

    /// The png_image format of 8-bit gray, RGB or RGBA.
    private static func format(channels: Int) -> UInt32 {
        let color = channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
        return channels == 4 ? color | UInt32(PNG_FORMAT_FLAG_ALPHA) : color
    }

    /// The message libpng left in the png_image (a NUL-terminated array of 64 chars).
    private static func message(_ image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "unknown libpng failure" : text
    }
}
