// What a path names, from stat(2) with symlinks followed, found without opening it: opening a FIFO blocks until
// a writer appears and /dev/null reads as nothing, so readers check for a regular file first and say what the
// path is instead ("it is a FIFO (named pipe), not a regular file").
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileKind: Equatable, Sendable {
    case missing
    /// stat failed for another reason than a missing file (permissions on a parent, a symlink loop, …).
    case inaccessible(reason: String)
    case regular
    case directory
    case fifo
    case characterDevice
    case blockDevice
    case socket
    case other

    /// The kind of `path` (symlinks followed).
    public init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            self = errno == ENOENT || errno == ENOTDIR ? .missing : .inaccessible(reason: String(cString: strerror(errno)))
            return
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }

    /// "a directory", "a FIFO (named pipe)", … for messages.
    public var phrase: String {
        switch self {
        case .missing: "missing"
        case let .inaccessible(reason): "inaccessible (\(reason))"
        case .regular: "a regular file"
        case .directory: "a directory"
        case .fifo: "a FIFO (named pipe)"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .socket: "a socket"
        case .other: "not a regular file"
        }
    }

    /// Why `path` cannot be read as a file — nil for a regular file or a missing one (left to the reader's own
    /// "not found"), otherwise e.g. "it is a directory, not a regular file".
    public static func readProblem(_ path: String) -> String? {
        switch FileKind(path: path) {
        case .regular, .missing: nil
        case let .inaccessible(reason): reason
        case let kind: "it is \(kind.phrase), not a regular file"
        }
    }
}
