// An 8-bit raster image (1, 3 or 4 interleaved channels, row-major), reading and writing it, and the bridge to
// the planar Float layout (CHW in [0, 1]) that tensors use. Files are told apart by their signature and handed to
// maintained decoders that return errors instead of trapping: libpng's simplified API (PNG, also the encoder),
// TurboJPEG (JPEG) and giflib (GIF), which keep their setjmp/longjmp inside C; BMP is parsed here in Swift.
// Every decoder checks the header's size against the limits below before it allocates pixels.
import Atelier
import Foundation

/// An 8-bit image with interleaved channels: gray (1), RGB (3) or RGBA (4).
///
/// Pixel `(x, y)` channel `c` is `pixels[(y * width + x) * channels + c]`. For tensors, use
/// ``planarFloats()`` (CHW in [0, 1]) and ``init(planar:channels:height:width:)``.
public struct RasterImage: Sendable, Equatable {
    /// Largest width or height accepted when loading.
    public static let maximumSide = 16_384
    /// Largest pixel count accepted when loading (100 Mpx, 400 MB as RGBA).
    public static let maximumPixelCount = 100_000_000

    public let width: Int
    public let height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// Wraps interleaved pixels.
    /// - Precondition: `channels` is 1, 3 or 4 and `pixels.count == width × height × channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition([1, 3, 4].contains(channels), "[RasterImage] channels must be 1, 3 or 4, got \(channels)")
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * channels,
                     "[RasterImage] \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with one value in every channel.
    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: fill, count: width * height * channels))
    }

    /// Channel `c` of pixel `(x, y)`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    // MARK: - Float bridge

    /// The image as planar floats, `[channels, height, width]` (CHW), each value `byte / 255` in [0, 1].
    public func planarFloats() -> [Float] {
        let planeSize = width * height
        var out = [Float](repeating: 0, count: planeSize * channels)
        out.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { src in
                for p in 0..<planeSize {
                    for c in 0..<channels { out[c * planeSize + p] = Float(src[p * channels + c]) / 255 }
                }
            }
        }
        return out
    }

    /// Quantises planar floats (CHW, nominally [0, 1]) to 8 bits: values are clamped to [0, 1], then rounded.
    /// NaN becomes 0.
    /// - Precondition: `planar.count == channels × height × width`.
    public init(planar: [Float], channels: Int, height: Int, width: Int) {
        precondition(planar.count == channels * height * width,
                     "[RasterImage] \(planar.count) floats for CHW [\(channels), \(height), \(width)]")
        let planeSize = width * height
        var bytes = [UInt8](repeating: 0, count: planar.count)
        bytes.withUnsafeMutableBufferPointer { out in
            planar.withUnsafeBufferPointer { src in
                for p in 0..<planeSize {
                    for c in 0..<channels { out[p * channels + c] = Self.quantize(src[c * planeSize + p] * 255) }
                }
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: bytes)
    }

    /// Rounds a value on the 0…255 scale to a byte, clamping; NaN maps to 0.
    @inline(__always)
    static func quantize(_ value: Float) -> UInt8 {
        guard value > 0 else { return 0 }
        return value >= 255 ? 255 : UInt8(value.rounded())
    }

    // MARK: - Channels

    /// The image with `channels` channels: gray → RGB repeats the value, RGB → gray uses the ITU-R 601 luma
    /// weights (0.299, 0.587, 0.114), RGBA → RGB drops alpha, adding alpha makes it opaque (255).
    public func converted(channels target: Int) -> RasterImage {
        precondition([1, 3, 4].contains(target), "[RasterImage] channels must be 1, 3 or 4, got \(target)")
        if target == channels { return self }
        var out = RasterImage(width: width, height: height, channels: target, fill: 255)
        let count = width * height
        let source = channels
        out.pixels.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for p in 0..<count {
                    let s = p * source, d = p * target
                    if target == 1 {
                        let luma = 0.299 * Float(src[s]) + 0.587 * Float(src[s + 1]) + 0.114 * Float(src[s + 2])
                        dst[d] = Self.quantize(luma)
                    } else if source == 1 {
                        for c in 0..<3 { dst[d + c] = src[s] }
                    } else {
                        for c in 0..<3 { dst[d + c] = src[s + c] }
                    }
                }
            }
        }
        return out
    }

    // MARK: - Reading

    /// Decodes the image file at `url`: PNG, JPEG, BMP or GIF's first frame, told by the file's signature (so a
    /// PNM or HDR named `.png` is refused). 16-bit PNGs are reduced to 8 bits, gray+alpha becomes RGBA, grayscale
    /// JPEGs have 1 channel, GIFs with transparency or a frame smaller than the screen have 4.
    /// - Parameters:
    ///   - url: the file.
    ///   - channels: 1, 3 or 4 to convert on load; nil keeps the file's own (gray+alpha becomes RGBA).
    /// - Throws: ``ImageError`` naming the file: missing, empty, not an image, or larger than the limits.
    public static func load(from url: URL, channels: Int? = nil) throws(ImageError) -> RasterImage {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .fileNotFound(path: url.path) }
        let bytes: Data
        do {
            bytes = try Data(readingFileAt: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        return try decode(bytes, source: url.path, channels: channels)
    }

    /// Decodes an encoded image held in memory; `source` names it in errors.
    public static func decode(_ bytes: Data, source: String, channels: Int? = nil) throws(ImageError) -> RasterImage {
        if let channels { precondition([1, 3, 4].contains(channels), "[RasterImage] channels must be 1, 3 or 4") }
        guard !bytes.isEmpty else { throw .emptyFile(path: source) }
        let decoded: RasterImage
        switch Self.signatureFormat(bytes) {
        case .png: decoded = try PNGCodec.decode(bytes, source: source)
        case .jpeg: decoded = try JPEGDecoder.decode(bytes, source: source)
        case .gif: decoded = try GIFDecoder.decode(bytes, source: source)
        case .bmp: decoded = try BMPDecoder.decode(bytes, source: source)
        case nil: throw .notAnImage(path: source, reason: "unrecognised signature")
        }
        return channels.map { decoded.converted(channels: $0) } ?? decoded
    }

    /// The formats ``decode(_:source:channels:)`` reads.
    enum FileFormat: String {
        case png, jpeg, gif, bmp
    }

    /// The format a file's first bytes announce, or nil for anything else.
    static func signatureFormat(_ bytes: Data) -> FileFormat? {
        let head = [UInt8](bytes.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x42, 0x4D]) { return .bmp }
        if head.starts(with: [0x47, 0x49, 0x46, 0x38]) { return .gif }
        return nil
    }

    /// Refuses the size a decoder read from a header, before any pixel memory is allocated for it.
    static func checkSize(width: Int, height: Int, source: String) throws(ImageError) {
        guard width > 0, height > 0 else { throw .notAnImage(path: source, reason: "zero-sized image \(width)×\(height)") }
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
            throw .tooLarge(path: source, width: width, height: height)
        }
    }

    // MARK: - Writing

    /// The image encoded as PNG (8-bit gray, RGB or RGBA).
    /// - Throws: ``ImageError/encodingFailed(path:reason:)`` for an empty image.
    public func pngData() throws(ImageError) -> Data {
        try encodePNG(source: "<memory>")
    }

    /// Writes the image as PNG, atomically (temporary file in the same directory, then rename).
    public func writePNG(to url: URL) throws(ImageError) {
        let data = try encodePNG(source: url.path)
        do {
            try AtomicFile.write(data, to: url)
        } catch {
            throw .writeFailed(path: url.path, reason: error.reason)
        }
    }

    func encodePNG(source: String) throws(ImageError) -> Data {
        try PNGCodec.encode(self, source: source)
    }
}
