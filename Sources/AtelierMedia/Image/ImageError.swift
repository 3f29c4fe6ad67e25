// Errors from reading and writing images and animations. Every message names the file.

/// A problem reading or writing an image or animation; `description` names the file and what is wrong.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at the path.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// The bytes are not a well-formed PNG, JPEG, BMP or GIF (the reason is the decoder's).
    case notAnImage(path: String, reason: String)
    /// A well-formed file in a variant the decoders refuse (CMYK JPEG, RLE BMP, ...).
    case unsupported(path: String, reason: String)
    /// The image exceeds ``RasterImage/maximumSide`` or ``RasterImage/maximumPixelCount``.
    case tooLarge(path: String, width: Int, height: Int)
    /// The encoder refused the image (for example a zero-sized image).
    case encodingFailed(path: String, reason: String)
    /// Frames of an animation are missing or disagree in size.
    case invalidAnimation(path: String, reason: String)
    /// Writing the file failed.
    case writeFailed(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .fileNotFound(let path), .unreadable(let path, _), .emptyFile(let path), .notAnImage(let path, _),
             .unsupported(let path, _), .tooLarge(let path, _, _), .encodingFailed(let path, _), .invalidAnimation(let path, _),
             .writeFailed(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "image not found: \(path)"
        case .unreadable(let path, let reason):
            return "cannot read image \(path): \(reason)"
        case .emptyFile(let path):
            return "image file is empty (0 bytes): \(path)"
        case .notAnImage(let path, let reason):
            return "not a readable image: \(path) (\(reason)); expected PNG, JPEG, BMP or GIF"
        case .unsupported(let path, let reason):
            return "unsupported image \(path): \(reason); convert it to an 8-bit PNG"
        case .tooLarge(let path, let width, let height):
            return "image too large: \(path) is \(width)×\(height); the limit is \(RasterImage.maximumSide) px per side "
                + "and \(RasterImage.maximumPixelCount / 1_000_000) Mpx"
        case .encodingFailed(let path, let reason):
            return "cannot encode \(path): \(reason)"
        case .invalidAnimation(let path, let reason):
            return "invalid animation for \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
