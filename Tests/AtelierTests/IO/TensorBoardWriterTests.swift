// TensorBoardWriter: the file's name and framing checked in Swift, then the same files read by Python's official
// `tensorboard` package (raw events, and the EventAccumulator that `tensorboard --logdir` uses on a folder),
// which must see our tags, steps, float32 values and images; a resumed run's file drops the older file's later
// points; and failures (a folder that cannot exist, a full disk) are typed errors naming the path.
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

    /// An RGB test pattern.
    static let picture = RasterImage(width: 7, height: 5, channels: 3, pixels: (0..<105).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) })

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

    @Test(.enabled(if: Python.hasTensorBoard, "needs python3 with tensorboard (pip install tensorboard)"))
    func tensorBoardReadsScalarsAndImages() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let board = try TensorBoardWriter(logDirectory: scratch.url)
        // 0.1 and 1/3 are not float32 values: TensorBoard must read them rounded to float32, nothing else.
        let losses: [(step: Int, value: Double)] = [(1, 0.1), (2, -2.5), (3, 1.0 / 3), (1 << 40, 1e-30)]
        for (step, value) in losses { board.scalar(tag: "loss/d", value: value, step: step) }
        board.scalar(tag: "lr", value: 2e-4, step: 1)
        try board.image(tag: "samples", Self.picture, step: 2)
        try board.image(tag: "gray", Self.picture.converted(channels: 1), step: 3)
        try board.flush()

        let script = """
        import base64, json, struct, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, LegacyEventFileLoader
        bits = lambda x: struct.unpack("<I", struct.pack("<f", x))[0]   # exact float32 (JSON doubles may not be)
        raw = []
        for e in LegacyEventFileLoader(sys.argv[1]).Load():
            item = {"step": e.step, "wall_time": e.wall_time, "file_version": e.file_version, "values": []}
            for v in e.summary.value:
                if v.HasField("image"):
                    item["values"].append({"tag": v.tag, "height": v.image.height, "width": v.image.width,
                        "colorspace": v.image.colorspace, "png": base64.b64encode(v.image.encoded_image_string).decode()})
                else:
                    item["values"].append({"tag": v.tag, "bits": bits(v.simple_value)})
            raw.append(item)
        # The loader TensorBoard's plugins use, which migrates simple values and images to tensors.
        plugins = sorted({v.metadata.plugin_data.plugin_name for e in EventFileLoader(sys.argv[1]).Load() for v in e.summary.value})
        acc = EventAccumulator(sys.argv[2])
        acc.Reload()
        tags = acc.Tags()
        print(json.dumps({"raw": raw, "plugins": plugins, "scalars": sorted(tags["scalars"]), "images": sorted(tags["images"]),
            "loss": [[s.step, bits(s.value)] for s in acc.Scalars("loss/d")],
            "samples": [[i.step, i.width, i.height] for i in acc.Images("samples")]}))
        """
        let result = try Python.run(script, [board.url.path, scratch.url.path])
        try #require(result.status == 0, "python failed: \(result.err)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let raw = try #require(json["raw"] as? [[String: Any]])
        try #require(raw.count == 1 + losses.count + 3)
        #expect(raw[0]["file_version"] as? String == "brain.Event:2")
        let now = Date().timeIntervalSince1970
        #expect(raw.allSatisfy { ($0["wall_time"] as? Double).map { abs($0 - now) < 600 } == true })
        for (i, (step, value)) in losses.enumerated() {
            let event = raw[1 + i], values = event["values"] as? [[String: Any]]
            #expect(event["step"] as? Int == step)
            #expect(values?.count == 1)
            #expect(values?.first?["tag"] as? String == "loss/d")
            #expect(values?.first?["bits"] as? UInt32 == Float(value).bitPattern, "step \(step)")
        }
        let images = raw.suffix(2).compactMap { ($0["values"] as? [[String: Any]])?.first }
        #expect(images.map { $0["tag"] as? String } == ["samples", "gray"])
        #expect(images.map { [$0["width"] as? Int, $0["height"] as? Int, $0["colorspace"] as? Int] } == [[7, 5, 3], [7, 5, 1]])
        let png = (images.first?["png"] as? String).flatMap { Data(base64Encoded: $0) }
        #expect(png == (try Self.picture.pngData()))
        #expect(png.map { (try? RasterImage.decode($0, source: "tensorboard")) == Self.picture } == true)

        #expect(json["plugins"] as? [String] == ["images", "scalars"])
        #expect(json["scalars"] as? [String] == ["loss/d", "lr"])
        #expect(json["images"] as? [String] == ["gray", "samples"])
        #expect(json["loss"] as? [[Int]] == losses.map { [$0.step, Int(Float($0.value).bitPattern)] })
        #expect(json["samples"] as? [[Int]] == [[2, 7, 5]])
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

    @Test func emptyImageIsATypedError() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let board = try TensorBoardWriter(logDirectory: scratch.url)
        #expect(throws: TensorBoardError.self) { try board.image(tag: "empty", RasterImage(width: 0, height: 3, channels: 3), step: 1) }
    }
}
}
