// TensorBoardWriter: the file's name and framing checked in Swift; a resumed run's file, read by Python's official
// `tensorboard` package (the EventAccumulator that `tensorboard --logdir` uses on a folder), drops the older file's
// later points; and failures (a folder that cannot exist, a full disk) are typed errors naming the path. Scalars
// and images as Python reads them are checked in AtelierMediaTests (TensorBoardImageTests), which can make images.
import Foundation
import Testing
@testable import Atelier
import TestSupport

extension IOTests {
@Suite("IO.TensorBoardWriter")
struct TensorBoardWriterTests {
    /// The data of every TFRecord in `url`, after checking both masked CRCs and that nothing trails the last.
    static func records(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        var records: [[UInt8]] = [], at = 0
        while at < bytes.count {
            try #require(at + 12 <= bytes.count, "truncated header at \(at)")
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) })
            #expect(u32(at + 8) == CRC32C.masked(bytes[at..<(at + 8)]), "length CRC at \(at)")
            try #require(at + 16 + length <= bytes.count, "truncated record at \(at)")
            let data = Array(bytes[(at + 12)..<(at + 12 + length)])
            #expect(u32(at + 12 + length) == CRC32C.masked(data), "data CRC at \(at)")
            records.append(data)
            at += 16 + length
        }
        return records
    }

    @Test func fileIsNamedAndFramedAsTensorBoardExpects() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let folder = scratch.file("runs/a")   // parents are created
        let first = try TensorBoardWriter(logDirectory: folder)
        first.scalar(tag: "loss", value: 1, step: 1)
        try first.flush()
        let second = try TensorBoardWriter(logDirectory: folder)
        let files = try tensorBoardEventFiles(in: folder)
        // Two writers of one process in one second: distinct files, the later one sorting last.
        #expect(files.map(\.lastPathComponent) == [first.url.lastPathComponent, second.url.lastPathComponent])
        let name = first.url.lastPathComponent.split(separator: ".")
        #expect(name.prefix(3) == ["events", "out", "tfevents"])
        #expect(Int(name[3]).map { abs(Double($0) - Date().timeIntervalSince1970) < 600 } == true)
        #expect(name.last == Substring(String(getpid())))
        let records = try Self.records(first.url)
        #expect(records.count == 2)
        // Event{wall_time = 1 (fixed64), step = 2 (0), file_version = 3}: key 0x1A, length 13, "brain.Event:2".
        #expect(records[0].count == 9 + 2 + 2 + 13)
        #expect(Array(records[0].suffix(15)) == [0x1A, 13] + Array("brain.Event:2".utf8))
    }

    /// A run logged steps 1…5, was resumed from its checkpoint at step 3 and logs 4…6 into a new file: TensorBoard
    /// shows the first file's steps 1…3, then the second file's.
    @Test(.enabled(if: Python.hasTensorBoard, "needs python3 with tensorboard (pip install tensorboard)"))
    func resumedRunContinuesTheCurveInANewFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let first = try TensorBoardWriter(logDirectory: scratch.url)
        for step in 1...5 { first.scalar(tag: "loss", value: Double(step), step: step) }
        try first.flush()
        let resumed = try TensorBoardWriter(logDirectory: scratch.url, restartStep: 4)
        for step in 4...6 { resumed.scalar(tag: "loss", value: Double(10 * step), step: step) }
        try resumed.flush()
        #expect(try tensorBoardEventFiles(in: scratch.url).count == 2)

        let script = """
        import json, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(sys.argv[1])
        acc.Reload()
        print(json.dumps([[s.step, s.value] for s in acc.Scalars("loss")]))
        """
        let result = try Python.run(script, [scratch.url.path])
        try #require(result.status == 0, "python failed: \(result.err)")
        let points = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[Double]]
        #expect(points == [[1, 1], [2, 2], [3, 3], [4, 40], [5, 50], [6, 60]])
    }

    @Test func folderThatCannotBeCreatedIsATypedError() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let blocker = scratch.file("file")
        try Data("x".utf8).write(to: blocker)
        let folder = blocker.appendingPathComponent("runs")
        #expect(throws: TensorBoardError.cannotCreateFolder(path: folder.path, reason: "\(blocker.path) exists and is not a folder")) {
            try TensorBoardWriter(logDirectory: folder)
        }
        #expect(throws: TensorBoardError.cannotCreateFolder(path: blocker.path, reason: "\(blocker.path) exists and is not a folder")) {
            try TensorBoardWriter(logDirectory: blocker)
        }
    }

    /// /dev/full fails every write with ENOSPC, as a full disk does.
    @Test func fullDiskIsATypedError() throws {
        let fd = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0)
        do {
            _ = try TensorBoardWriter(descriptor: fd, url: URL(fileURLWithPath: "/dev/full"))
            Issue.record("writing to /dev/full succeeded")
        } catch {
            #expect(error == .writeFailed(path: "/dev/full", reason: "write failed: \(String(cString: strerror(ENOSPC)))"))
            #expect("\(error)".hasPrefix("cannot append to the TensorBoard event file /dev/full"))
        }
    }
}
}
