// A run's options are checked before anything is read or trained, each error naming the train-transgan flag and
// what was wrong, in the words Paint Transformer's tools use for the same mistake.
import Foundation
import Testing
import Atelier
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct TrainingRunOptionsTests {
    /// The flag an `invalidOption` or `unknownValue` error names, nil without an error, else the error itself.
    func flag(of body: () throws -> Void) -> String? {
        do { try body() } catch let TrainingError.invalidOption(flag, _, _) { return flag } catch let TrainingError.unknownValue(flag, _, _) {
            return flag
        } catch { return "other: \(error)" }
        return nil
    }

    func options(_ change: (inout TrainingRunOptions) -> Void) -> TrainingRunOptions {
        var o = TrainingRunOptions()
        o.stored.config = "micro"; o.stored.data = "synthetic"; o.stored.batch = 4
        change(&o)
        return o
    }

    @Test func runFlagsOutOfRangeNameTheFlag() {
        #expect(flag { try options { _ in }.validate() } == nil)
        let cases: [(String, (inout TrainingRunOptions) -> Void)] = [
            ("--threads", { $0.threads = 0 }), ("--threads", { $0.threads = 5000 }), ("--shards", { $0.shards = 0 }),
            ("--steps", { $0.steps = 0 }), ("--steps", { $0.steps = 2_000_000_000 }),
            ("--sample-every", { $0.sampleEvery = -1 }), ("--snapshot-every", { $0.snapshotEvery = -1 }),
            ("--checkpoint-every", { $0.checkpointEvery = Int.min }), ("--eval-every", { $0.evalEvery = -5 }),
            ("--eval-samples", { $0.evalSamples = 1 }), ("--logdir", { $0.logdir = "" }),
            ("--max-minutes", { $0.maxMinutes = 0 }), ("--max-minutes", { $0.maxMinutes = .nan }), ("--max-minutes", { $0.maxMinutes = .infinity }),
        ]
        for (expected, change) in cases {
            #expect(flag { try options(change).validate() } == expected)
            // The run checks them before reading, loading or writing anything.
            #expect(flag { _ = try TransGANTrainingRun(options(change)) } == expected)
        }
    }

    @Test func storedFlagsAreCheckedWhenResolved() {
        #expect(flag { _ = try options { _ in }.resolved() } == nil)
        #expect(flag { _ = try options { $0.stored.config = "huge" }.resolved() } == "--config")
        #expect(flag { _ = try options { $0.stored.data = "mnist" }.resolved() } == "--data")
        #expect(flag { _ = try options { $0.stored.batch = 0 }.resolved() } == "--batch")
        #expect(flag { _ = try options { $0.stored.loss = "wgan" }.resolved() } == "--loss")
        // Sharding is checked against the batch when the trainer is built.
        #expect(flag { _ = try TransGANTrainingRun(options { $0.shards = 5 }) } == "--shards")
    }

    @Test func messagesReadAsPaintTransformersDo() {
        // paint and train-paint-transformer: "unknown --config 'x'; use one of …", "--logdir must be a folder path, got ''".
        #expect(TrainingError.unknownValue(flag: "--config", value: "huge", known: ["tiny", "micro"]).description
                == "unknown --config 'huge'; use one of tiny, micro")
        #expect(TrainingError.invalidOption(flag: "--logdir", value: "''", allowed: "a folder path").description
                == "--logdir must be a folder path, got ''")
        #expect(throws: TrainingError.unknownValue(flag: "--data", value: "mnist", known: ["fashion-mnist", "cifar10:PATH", "folder:PATH", "synthetic"])) {
            _ = try DataSource(parsing: "mnist")
        }
    }

    @Test func anUnusableLogFolderFailsBeforeTraining() throws {
        let scratch = try ScratchDirectory("transgan-run-logdir")
        defer { scratch.remove() }
        let blocker = scratch.file("a-file")
        try Data("x".utf8).write(to: blocker)
        do {
            _ = try TransGANTrainingRun(options { $0.out = scratch.file("out").path; $0.logdir = blocker.appendingPathComponent("board").path })
            Issue.record("a --logdir inside a file should fail")
        } catch let TrainingError.badOption(message) {
            #expect(message.hasPrefix("--logdir: "), "\(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out").appendingPathComponent("losses.csv").path))
    }
}
}
