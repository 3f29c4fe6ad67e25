import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

// A run's options are checked before anything is read, trained or written, each error naming the
// train-paint-transformer flag and what was wrong, in the words the tool has always printed.

@Suite struct TrainingRunOptionsTests {
    /// The flag that `body`'s error names; nil when it succeeds.
    func refusedFlag(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as TrainerError {
            switch error {
            case let .invalidOption(flag, _), let .unknownValue(flag, _, _): return flag
            default: return "not an option error: \(error)"
            }
        } catch { return "not a TrainerError: \(error)" }
        return nil
    }

    func options(out: URL, _ change: (inout PaintTransformerTrainingRunOptions) -> Void) -> PaintTransformerTrainingRunOptions {
        var o = PaintTransformerTrainingRunOptions()
        o.config = "tiny"; o.batch = 4; o.steps = 2; o.out = out.path
        change(&o)
        return o
    }

    @Test func everyOptionOutOfRangeNamesItsFlag() throws {
        let scratch = try ScratchDirectory("pt-run-options")
        defer { scratch.remove() }
        let out = scratch.file("out")
        #expect(refusedFlag { try options(out: out) { _ in }.validate() } == nil)
        let cases: [(String, (inout PaintTransformerTrainingRunOptions) -> Void)] = [
            ("--config", { $0.config = "huge" }), ("--steps", { $0.steps = 0 }), ("--steps", { $0.steps = 2_000_000_000 }),
            ("--schedule-steps", { $0.scheduleSteps = -3 }), ("--batch", { $0.batch = 6 }), ("--batch", { $0.batch = 8192 }),
            ("--lr", { $0.learningRate = .nan }), ("--lr", { $0.learningRate = 0 }), ("--loss-weights", { $0.lossWeights = "pixle=1" }),
            ("--threads", { $0.threads = 0 }), ("--threads", { $0.threads = 5000 }), ("--shards", { $0.shards = 0 }),
            ("--shards", { $0.shards = 2 }), ("--logdir", { $0.logdir = "" }), ("--checkpoint-every", { $0.checkpointEvery = 0 }),
            ("--log-every", { $0.logEvery = -1 }), ("--preview-every", { $0.previewEvery = -1 }), ("--validate-every", { $0.validateEvery = Int.min }),
        ]
        for (expected, change) in cases {
            #expect(refusedFlag { try options(out: out, change).validate() } == expected)
            // The run refuses them before it creates the output folder.
            #expect(refusedFlag { _ = try PaintTransformerTrainingRun(options(out: out, change)) } == expected)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func messagesKeepTheToolsWording() {
        func message(_ change: (inout PaintTransformerTrainingRunOptions) -> Void) -> String {
            var o = PaintTransformerTrainingRunOptions()
            change(&o)
            do { try o.validate() } catch { return error.description }
            return "accepted"
        }
        #expect(message { $0.steps = 0 } == "--steps 0 is not in 1…1000000000")
        #expect(message { $0.config = "huge" } == "unknown --config 'huge'; use one of paper, small, small-proposals, tiny, tiny-proposals")
        #expect(message { $0.threads = 0 } == "--threads must be between 1 and 1024 worker threads, got 0")
        #expect(message { $0.logdir = "" } == "--logdir must be a folder path, got ''")
        #expect(message { $0.lossWeights = "pixel=x" }.hasPrefix("--loss-weights: loss weight 'pixel=x' is not NAME=VALUE"))
        // 64 patches (the default batch) are 16 canvases.
        #expect(message { $0.shards = 17 } == "--shards 17 is not in 1…16 (each shard of the 64-patch batch needs at least one 4-patch canvas)")
    }

    @Test func aResumedRunsShardsAreCheckedAgainstTheCheckpointsBatch() {
        var o = PaintTransformerTrainingRunOptions()
        o.resume = true; o.shards = 17
        // Without --batch the batch is the checkpoint's, unknown until it is read.
        #expect(refusedFlag { try o.validate() } == nil)
        o.batch = 8
        #expect(refusedFlag { try o.validate() } == "--shards")
    }

    @Test func newRunSettingsApplyTheOptionsOverTheDefaults() throws {
        var o = PaintTransformerTrainingRunOptions()
        let defaults = try o.newRunSettings(processes: 2)
        #expect(defaults == TrainerSettings(configuration: .smallProposals, totalSteps: 1000, shards: 2))
        o.config = "tiny"; o.steps = 7; o.scheduleSteps = 9; o.batch = 8; o.learningRate = 3e-4; o.seed = 11; o.shards = 1
        o.lossWeights = "pixel=2"
        var weights = PaintTransformerLossWeights()
        weights.pixel = 2
        #expect(try o.newRunSettings(processes: 2)
                == TrainerSettings(configuration: .tiny, batchSize: 8, learningRate: 3e-4, totalSteps: 9, seed: 11, lossWeights: weights, shards: 1))
    }

    @Test func anUnusableLogFolderFailsBeforeTraining() throws {
        let scratch = try ScratchDirectory("pt-run-logdir")
        defer { scratch.remove() }
        let blocker = scratch.file("a-file")
        try Data("x".utf8).write(to: blocker)
        let out = scratch.file("out")
        do {
            _ = try PaintTransformerTrainingRun(options(out: out) { $0.logdir = blocker.appendingPathComponent("board").path })
            Issue.record("a --logdir inside a file should fail")
        } catch {
            guard case let .invalidOption(flag, message) = error else { throw error }
            #expect(flag == "--logdir" && message.hasPrefix("--logdir: cannot create the TensorBoard log folder"), "\(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoint.safetensors").path))
    }
}
