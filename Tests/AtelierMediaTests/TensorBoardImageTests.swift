// TensorBoardWriter with images from AtelierMedia: the files read by Python's official `tensorboard` package (raw
// events, and the EventAccumulator that `tensorboard --logdir` uses on a folder), which must see our tags, steps,
// float32 values and images; and an image that cannot be encoded is a typed error.
import Atelier
import AtelierMedia
import Foundation
import Testing
import TestSupport

extension MediaTests {
@Suite("Media.TensorBoardImage")
struct TensorBoardImageTests {
    /// An RGB test pattern.
    static let picture = RasterImage(width: 7, height: 5, channels: 3, pixels: (0..<105).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) })

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

    @Test func emptyImageIsATypedError() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let board = try TensorBoardWriter(logDirectory: scratch.url)
        #expect(throws: TensorBoardError.self) { try board.image(tag: "empty", RasterImage(width: 0, height: 3, channels: 3), step: 1) }
    }
}
}
