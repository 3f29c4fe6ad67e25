// TensorBoard event files: scalars and images appended as TFRecord-framed `tensorboard.Event`s to
// `events.out.tfevents.<unix seconds>.<host>.<pid>` in a log folder, which `tensorboard --logdir` reads. TensorBoard
// takes every file whose name contains "tfevents" and reads a folder's files in name order, so the file of a
// resumed run (named by a later time) continues the curves of the earlier one.
//
// Records are buffered until `flush()`, which appends them with one write(2): a crash loses only what was not yet
// flushed. A stream cannot be replaced atomically as checkpoints are; instead a failed append cuts the file back
// to its last whole record, so a reader never meets a torn record followed by more data.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends scalar and image summaries to a new event file in a log folder.
///
/// ```swift
/// let board = try TensorBoardWriter(logDirectory: URL(fileURLWithPath: "runs/x"))
/// board.scalar(tag: "loss/d", value: 0.25, step: 1)
/// try board.flush()        // then `tensorboard --logdir runs`
/// ```
public final class TensorBoardWriter {
    /// The event file this writer appends to.
    public let url: URL
    private let descriptor: Int32
    /// Encoded records not yet written.
    private var pending: [UInt8] = []
    /// Bytes of whole records in the file: where a failed append is cut back to.
    private var committed: off_t = 0

    /// Creates `logDirectory` (and its parents) if needed and starts a new event file in it.
    /// - Parameter restartStep: for a resumed run, the first step it will log: TensorBoard then drops what earlier
    ///   files of the folder logged at this step or later (points the interrupted run logged after the checkpoint
    ///   it is resumed from), as PyTorch's `SummaryWriter(purge_step:)` does.
    public convenience init(logDirectory: URL, restartStep: Int? = nil) throws(TensorBoardError) {
        let folder = logDirectory.standardizedFileURL
        try Self.createFolders(folder.path)
        let base = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(Self.hostName()).\(getpid())"
        // O_EXCL: never append to another writer's file; one process opening two in a second gets `base.1`, which
        // sorts after `base`.
        for attempt in 0..<100 {
            let file = folder.appendingPathComponent(attempt == 0 ? base : "\(base).\(attempt)")
            let fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 {
                try self.init(descriptor: fd, url: file, restartStep: restartStep)
                return
            }
            if errno != EEXIST { throw .cannotCreateFile(path: file.path, reason: errnoDescription()) }
        }
        throw .cannotCreateFile(path: folder.appendingPathComponent(base).path, reason: "100 files of that name exist already")
    }

    /// Takes over an open descriptor (tests pass /dev/full) and writes the file's opening records.
    init(descriptor: Int32, url: URL, restartStep: Int? = nil) throws(TensorBoardError) {
        self.descriptor = descriptor
        self.url = url
        append(.fileVersion("brain.Event:2"), step: 0)
        if let restartStep { append(.sessionStart, step: restartStep) }
        try flush()
    }

    /// Flushes what is pending, ignoring a failure (call `flush()` to see it), and closes the file.
    deinit {
        try? flush()
        close(descriptor)
    }

    // MARK: - Summaries

    /// A point of the curve `tag` (TensorBoard stores scalars as float32, so `value` is rounded to Float).
    public func scalar(tag: String, value: Double, step: Int) {
        append(.scalar(tag: tag, value: Float(value)), step: step)
    }

    /// An already encoded PNG (or JPEG) of `width × height` pixels with `channels` (1 gray, 3 RGB, 4 RGBA). The engine
    /// links no image codec; AtelierMedia adds `image(tag:_:step:)`, which encodes a `RasterImage`.
    /// - Precondition: `width` and `height` in 1…Int32.max, `channels` in 1…4.
    public func image(tag: String, png: Data, width: Int, height: Int, channels: Int, step: Int) {
        precondition(width >= 1 && width <= Int(Int32.max) && height >= 1 && height <= Int(Int32.max) && (1...4).contains(channels),
                     "[TensorBoardWriter.image] \(width)×\(height)×\(channels) is not an image size")
        append(.image(tag: tag, png: [UInt8](png), width: Int32(width), height: Int32(height), colorspace: Int32(channels)), step: step)
    }

    private func append(_ content: TensorBoardEvent.Content, step: Int) {
        let event = TensorBoardEvent.encoded(content, step: Int64(step), wallTime: Date().timeIntervalSince1970)
        TFRecord.append(event, to: &pending)
    }

    // MARK: - Writing

    /// Appends the pending records to the file (to the operating system; not fsync'd, which would cost more than
    /// a log is worth per step). On failure the file is cut back to its whole records and the pending ones are
    /// kept, so a later `flush()` may still write them.
    public func flush() throws(TensorBoardError) {
        guard !pending.isEmpty else { return }
        if let reason = pending.withUnsafeBytes({ writeAll(descriptor, $0) }) {
            _ = ftruncate(descriptor, committed)
            throw .writeFailed(path: url.path, reason: reason)
        }
        committed += off_t(pending.count)
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: - Helpers

    /// `mkdir -p`, with a message naming the part of `path` that failed (Foundation's on Linux names none).
    private static func createFolders(_ path: String) throws(TensorBoardError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o777) == 0 { continue }
            let reason = errno == EEXIST ? (isFolder(prefix) ? nil : "\(prefix) exists and is not a folder") : "\(prefix): \(errnoDescription())"
            if let reason { throw .cannotCreateFolder(path: path, reason: reason) }
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// gethostname(2) with the characters a file name cannot hold replaced; "localhost" if it fails.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingOccurrences(of: "/", with: "_")
    }
}
