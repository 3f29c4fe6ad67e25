// Both trainers with --logdir: each run (and each resume) adds one event file holding a summary per step under the
// loss tags and the images the trainer makes; under mpirun only rank 0 writes one. The format itself is checked
// against Python's tensorboard in AtelierTests (TensorBoardWriterTests) and AtelierMediaTests
// (TensorBoardImageTests); here the tags are found by their encoded form in the file: a Summary.Value's tag field,
// key 0x0A then the length then the UTF-8 bytes.
import Foundation
import Testing
import TestSupport

@Suite("TensorBoard logging of the trainers", .serialized)
struct TensorBoardLoggingTests {
    /// How many summary values in `file` carry `tag`.
    static func count(_ tag: String, in file: URL) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: file)), needle = [0x0A, UInt8(tag.utf8.count)] + Array(tag.utf8)
        guard bytes.count >= needle.count else { return 0 }
        return (0...(bytes.count - needle.count)).filter { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }.count
    }

    @Test func transGANLogsEveryStepAndResumesIntoANewFile() throws {
        let scratch = try ScratchDirectory("tb-gan")
        defer { scratch.remove() }
        let out = scratch.url
        let logs = out.appendingPathComponent("logs/run")
        let common = ["--out", out.path, "--logdir", logs.path, "--threads", "1", "--sample-every", "1", "--checkpoint-every", "0"]
        try MPIRun.succeed("train-transgan", ["--config", "micro", "--data", "synthetic", "--batch", "4", "--g-batch", "4",
                                              "--n-critic", "1", "--steps", "2"] + common)
        let first = try tensorBoardEventFiles(in: logs)
        try #require(first.count == 1)
        for tag in ["loss/d", "loss/g", "loss/gradient_penalty", "samples"] { #expect(try Self.count(tag, in: first[0]) == 2, "\(tag)") }
        #expect(try Self.count("lr/g", in: first[0]) >= 1)

        try MPIRun.succeed("train-transgan", ["--resume", out.appendingPathComponent("checkpoint.safetensors").path, "--steps", "3"] + common)
        let files = try tensorBoardEventFiles(in: logs)
        try #require(files.count == 2)
        #expect(files[0] == first[0])
        #expect(try Self.count("loss/d", in: files[1]) == 1)
    }

    @Test func paintTransformerLogsLossesAndPreviews() throws {
        let scratch = try ScratchDirectory("tb-paint")
        defer { scratch.remove() }
        let out = scratch.url
        let logs = out.appendingPathComponent("logs")
        try MPIRun.succeed("train-paint-transformer", ["--out", out.path, "--logdir", logs.path, "--batch", "4", "--threads", "1", "--steps", "2",
                                                       "--preview-every", "1", "--validate-every", "0", "--log-every", "1"])
        let files = try tensorBoardEventFiles(in: logs)
        try #require(files.count == 1)
        for tag in ["loss/total", "loss/pixel", "lr", "preview", "speed/it_per_s"] { #expect(try Self.count(tag, in: files[0]) == 2, "\(tag)") }
    }

    @Test func onlyRankZeroWrites() throws {
        let scratch = try ScratchDirectory("tb-mpi")
        defer { scratch.remove() }
        let out = scratch.url
        let logs = out.appendingPathComponent("logs")
        try MPIRun.succeed("train-transgan", ["--config", "micro", "--data", "synthetic", "--batch", "4", "--g-batch", "4", "--n-critic", "1",
                                              "--steps", "2", "--threads", "1", "--sample-every", "0", "--checkpoint-every", "0",
                                              "--out", out.path, "--logdir", logs.path], ranks: 2)
        let files = try tensorBoardEventFiles(in: logs)
        try #require(files.count == 1)
        #expect(try Self.count("loss/d", in: files[0]) == 2)
    }
}
