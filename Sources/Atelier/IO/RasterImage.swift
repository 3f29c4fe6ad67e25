// An 8-bit raster image (1, 3 or 4 interleaved channels, row-major), its decoding through stb_image, PNG
// encoding through stb_image_write, and the bridge to the planar Float layout (CHW in [0, 1]) that tensors use.
// stb is used because its functions return errors instead of longjmp-ing like libpng/libjpeg.
import CMedia
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

    /// Decodes the image file at `url`: PNG, JPEG, BMP or GIF's first frame, told by the file's signature
    /// (16-bit PNGs are reduced to 8 bits). stb also reads TGA, PSD, HDR and PNM, but its PNM 16-bit and HDR RLE
    /// paths over-read or spin on hostile files, so only these four are handed to it.
    /// - Parameters:
    ///   - url: the file.
    ///   - channels: 1, 3 or 4 to convert on load; nil keeps the file's own (gray+alpha becomes RGBA).
    /// - Throws: ``ImageError`` naming the file: missing, empty, not an image, or larger than the limits.
    public static func load(from url: URL, channels: Int? = nil) throws(ImageError) -> RasterImage {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .fileNotFound(path: url.path) }
        // Before opening: a FIFO would block, a device or directory would read as nothing or fail vaguely.
        if let problem = FileKind.readProblem(url.path) { throw .unreadable(path: url.path, reason: problem) }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(bytes, source: url.path, channels: channels)
    }

    /// Decodes an encoded image held in memory; `source` names it in errors.
    public static func decode(_ bytes: Data, source: String, channels: Int? = nil) throws(ImageError) -> RasterImage {
        if let channels { precondition([1, 3, 4].contains(channels), "[RasterImage] channels must be 1, 3 or 4") }
        guard !bytes.isEmpty else { throw .emptyFile(path: source) }
        guard bytes.count <= Int(Int32.max) else { throw .notAnImage(path: source, reason: "file larger than 2 GB") }
        guard Self.signatureFormat(bytes) != nil else {
            throw .notAnImage(path: source, reason: "unrecognised signature")
        }
        var width: Int32 = 0, height: Int32 = 0, fileChannels: Int32 = 0
        // Read the dimensions first so a hostile header cannot make stb allocate gigabytes.
        let known = bytes.withUnsafeBytes { raw in
            stbi_info_from_memory(raw.bindMemory(to: UInt8.self).baseAddress, Int32(raw.count), &width, &height, &fileChannels)
        }
        guard known != 0 else { throw .notAnImage(path: source, reason: failureReason()) }
        guard width > 0, height > 0 else { throw .notAnImage(path: source, reason: "zero-sized image \(width)×\(height)") }
        guard Int(width) <= maximumSide, Int(height) <= maximumSide, Int(width) * Int(height) <= maximumPixelCount else {
            throw .tooLarge(path: source, width: Int(width), height: Int(height))
        }
        let wanted = channels ?? (fileChannels == 2 ? 4 : Int(fileChannels))
        let loaded: RasterImage? = bytes.withUnsafeBytes { raw in
            var w: Int32 = 0, h: Int32 = 0, n: Int32 = 0
            guard let decoded = stbi_load_from_memory(raw.bindMemory(to: UInt8.self).baseAddress, Int32(raw.count),
                                                      &w, &h, &n, Int32(wanted)) else { return nil }
            defer { stbi_image_free(decoded) }
            let count = Int(w) * Int(h) * wanted
            return RasterImage(width: Int(w), height: Int(h), channels: wanted,
                               pixels: [UInt8](UnsafeBufferPointer(start: decoded, count: count)))
        }
        guard let loaded else { throw .notAnImage(path: source, reason: failureReason()) }
        return loaded
    }

    /// The format a file's first bytes announce, or nil for anything else.
    static func signatureFormat(_ bytes: Data) -> String? {
        let head = [UInt8](bytes.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpeg" }
        if head.starts(with: [0x42, 0x4D]) { return "bmp" }
        if head.starts(with: [0x47, 0x49, 0x46, 0x38]) { return "gif" }
        return nil
    }

    private static func failureReason() -> String {
        stbi_failure_reason().map { String(cString: $0) } ?? "unknown decoder failure"
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
        guard width > 0, height > 0 else {
            throw .encodingFailed(path: source, reason: "PNG needs a non-empty image, got \(width)×\(height)")
        }
        let sink = ByteSink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let status = withExtendedLifetime(sink) {
            pixels.withUnsafeBytes { raw in
                stbi_write_png_to_func({ context, data, size in
                    guard let context, let data, size > 0 else { return }
                    Unmanaged<ByteSink>.fromOpaque(context).takeUnretainedValue()
                        .bytes.append(data.assumingMemoryBound(to: UInt8.self), count: Int(size))
                }, context, Int32(width), Int32(height), Int32(channels), raw.baseAddress, Int32(width * channels))
            }
        }
        guard status != 0 else { throw .encodingFailed(path: source, reason: "stb_image_write failed") }
        return sink.bytes
    }
}

/// Collects the bytes a C encoder hands to its write callback.
final class ByteSink {
    var bytes = Data()
}
