// Atomic file replacement: write a temporary file beside the target, flush it, then rename it over the
// target. rename(2) within one directory is atomic, so readers see the old file or the new one, never a
// half-written checkpoint or image, even if the process dies mid-write.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed; callers wrap it into their own typed error that names the file.
public struct AtomicWriteFailure: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

public enum AtomicFile {
    /// Replaces the file at `url` with `data`. The new file has mode 0644 (minus the umask).
    public static func write(_ data: Data, to url: URL) throws(AtomicWriteFailure) {
        let directory = url.deletingLastPathComponent().path
        let (fd, temporaryPath) = try createTemporary(beside: url)
        var committed = false
        defer { if !committed { unlink(temporaryPath) } }

        if let failure = data.withUnsafeBytes({ writeAll(fd, $0) }) {
            close(fd)
            throw AtomicWriteFailure(reason: failure)
        }
        // fsync before rename: otherwise a crash can leave the renamed file empty on some filesystems.
        if fsync(fd) != 0 {
            let reason = errnoDescription()
            close(fd)
            throw AtomicWriteFailure(reason: "fsync failed: \(reason)")
        }
        close(fd)
        guard rename(temporaryPath, url.path) == 0 else {
            throw AtomicWriteFailure(reason: "cannot rename the temporary file into \(directory): \(errnoDescription())")
        }
        committed = true
    }

    /// Opens a fresh file next to `url` with O_EXCL, so two writers never share a temporary.
    private static func createTemporary(beside url: URL) throws(AtomicWriteFailure) -> (Int32, String) {
        let directory = url.deletingLastPathComponent().path
        for _ in 0..<16 {
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let path = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-" + suffix
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, path) }
            if errno != EEXIST {
                throw AtomicWriteFailure(reason: "cannot create a temporary file in \(directory): \(errnoDescription())")
            }
        }
        throw AtomicWriteFailure(reason: "cannot create a unique temporary file in \(directory)")
    }
}

/// Writes every byte of `raw` to `fd`, retrying short writes and EINTR; nil on success, else the reason.
func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> String? {
    var offset = 0
    while offset < raw.count {
        let written = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return "write failed: \(errnoDescription())"
        }
        offset += written
    }
    return nil
}

/// write(2); named apart because `write` inside `AtomicFile.write` would resolve to the method.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

package func errnoDescription() -> String {
    String(cString: strerror(errno))
}

/// A file that could not be replaced atomically.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Replaces the file at `url` with `data` atomically (temporary file beside it, fsync, rename).
public func writeFileAtomically(_ data: Data, to url: URL) throws(FileWriteError) {
    do { try AtomicFile.write(data, to: url) } catch { throw FileWriteError(path: url.path, reason: error.reason) }
}
