// Errors of TensorBoard event logging. Every message names the folder or file and the system's reason, so a
// trainer can put its flag in front (`--logdir: …`) and print one line.

/// A problem creating or appending to a TensorBoard event file.
public enum TensorBoardError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The log folder (or one of its parents) could not be created, or a path in the way is not a folder.
    case cannotCreateFolder(path: String, reason: String)
    /// The event file could not be created in the log folder.
    case cannotCreateFile(path: String, reason: String)
    /// Appending to the event file failed (disk full, I/O error); the file keeps its whole records only.
    case writeFailed(path: String, reason: String)
    /// An image summary could not be encoded as PNG.
    case imageNotEncodable(tag: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreateFolder(path, reason): return "cannot create the TensorBoard log folder \(path): \(reason)"
        case let .cannotCreateFile(path, reason): return "cannot create the TensorBoard event file \(path): \(reason)"
        case let .writeFailed(path, reason): return "cannot append to the TensorBoard event file \(path): \(reason)"
        case let .imageNotEncodable(tag, reason): return "cannot encode the image '\(tag)' for TensorBoard: \(reason)"
        }
    }
}
