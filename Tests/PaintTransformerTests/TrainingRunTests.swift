import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import PaintTransformer
import TestSupport

// The library-level training run on `tiny` and a few steps: the files it writes on their schedules, a stop request
// that ends it with a checkpoint, a stopped-and-resumed run that ends bit-identical to one run straight, and a
// failed step that names what was saved. Serialized: the resume test compares bits, and OpenBLAS called from
// several threads at once does not always round identically.

@Suite(.serialized) struct TrainingRunTests {
    /// Small brushes make the synthetic batches cheap; the validation set is drawn with them too.
    let brushes = BrushSet.oilPaint(size: 64)

    /// tiny (with dropout, so its stream must resume too), batch 4, nothing scheduled.
    func options(out: URL, steps: Int) -> PaintTransformerTrainingRunOptions {
        var o = PaintTransformerTrainingRunOptions()
        o.config = "tiny"; o.batch = 4; o.learningRate = 1e-3; o.seed = 5
        o.steps = steps
        o.out = out.path
        o.previewEvery = 0; o.checkpointEvery = 1000; o.logEvery = 1000; o.validateEvery = 0
        return o
    }

    func names(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    /// The step a checkpoint was saved at, from its Adam step count as a resumed trainer reads it.
    func step(of checkpoint: URL) throws -> Int {
        try PaintTransformerTrainer.resume(from: checkpoint, brushes: brushes).step
    }

    @Test func runWritesEveryFileOnItsSchedule() throws {
        let scratch = try ScratchDirectory("pt-run-files")
        defer { scratch.remove() }
        let out = scratch.file("out"), board = scratch.file("board")
        var o = options(out: out, steps: 4)
        o.previewEvery = 2; o.checkpointEvery = 3; o.logEvery = 2; o.validateEvery = 3; o.logdir = board.path
        var lines: [String] = []
        let run = try PaintTransformerTrainingRun(o, brushes: brushes) { lines.append($0) }
        let summary = try run.train()
        #expect(summary.firstStep == 0 && summary.step == 4 && !summary.stoppedOnRequest)
        #expect(try names(in: out) == ["checkpoint.safetensors", "preview.png", "validation.csv", "weights-f16.safetensors"])
        // Validated before the first step, on schedule, and after the last.
        let rows = try String(contentsOf: run.directory.appendingPathComponent("validation.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first.map(String.init) == ValidationLog.header)
        #expect(rows.dropFirst().map { $0.prefix(2) } == ["0,", "3,", "4,"])
        #expect(try step(of: run.checkpointURL) == 4)
        #expect(try SafeTensorsFile.read(from: run.weightsURL).metadata["step"] == "4")
        #expect(try RasterImage.load(from: run.previewURL).width > 0)
        #expect(try tensorBoardEventFiles(in: board).count == 1)
        #expect(lines.filter { $0.hasPrefix("step ") }.map { $0.prefix(9) } == ["step 2/4 ", "step 4/4 "])
        let path = run.checkpointURL.path
        #expect(lines.filter { $0.hasPrefix("saved ") } == ["saved \(path) at step 3 (step)", "saved \(path) at step 4 (step)"])
        #expect(lines.last?.hasPrefix("done: 4 steps") == true, "\(lines)")
    }

    @Test func stopRequestEndsTheRunWithACheckpoint() throws {
        let scratch = try ScratchDirectory("pt-run-stop")
        defer { scratch.remove() }
        var asked = 0, lines: [String] = []
        let run = try PaintTransformerTrainingRun(options(out: scratch.url, steps: 1000), brushes: brushes) { lines.append($0) }
        // Asked after each step: the third answer stops the run after step 3.
        let summary = try run.train { asked += 1; return asked == 3 }
        #expect(summary.stoppedOnRequest && summary.step == 3)
        #expect(try step(of: run.checkpointURL) == 3)
        #expect(try names(in: scratch.url) == ["checkpoint.safetensors", "weights-f16.safetensors"])
        #expect(lines.last == "saved \(run.checkpointURL.path) at step 3 (interrupted)")
    }

    @Test func stoppedAndResumedRunContinuesTheStepCountAndEqualsOneRunStraight() throws {
        let scratch = try ScratchDirectory("pt-run-resume")
        defer { scratch.remove() }
        let straight = scratch.file("straight"), split = scratch.file("split")
        func scheduled(_ out: URL) -> PaintTransformerTrainingRunOptions {
            var o = options(out: out, steps: 5)
            o.validateEvery = 2
            return o
        }
        _ = try PaintTransformerTrainingRun(scheduled(straight), brushes: brushes).train()

        var asked = 0
        _ = try PaintTransformerTrainingRun(scheduled(split), brushes: brushes).train { asked += 1; return asked == 2 }
        var resumed = scheduled(split)
        resumed.resume = true
        var lines: [String] = []
        let run = try PaintTransformerTrainingRun(resumed, brushes: brushes) { lines.append($0) }
        #expect(run.trainer.step == 2)
        #expect(lines.first == "resumed \(run.checkpointURL.path) at step 2")
        let summary = try run.train()
        #expect(summary.firstStep == 2 && summary.step == 5)
        for name in ["checkpoint.safetensors", "weights-f16.safetensors", "validation.csv"] {
            let a = try Data(contentsOf: straight.appendingPathComponent(name)), b = try Data(contentsOf: split.appendingPathComponent(name))
            #expect(a == b, "the resumed run's \(name) differs from the straight run's")
        }
    }

    @Test func aResumeMustNameTheCheckpointsConfiguration() throws {
        let scratch = try ScratchDirectory("pt-run-config")
        defer { scratch.remove() }
        _ = try PaintTransformerTrainingRun(options(out: scratch.url, steps: 1), brushes: brushes).train()
        var o = options(out: scratch.url, steps: 2)
        o.resume = true; o.config = "tiny-proposals"
        do {
            _ = try PaintTransformerTrainingRun(o, brushes: brushes)
            Issue.record("a tiny checkpoint resumed as tiny-proposals should fail")
        } catch {
            #expect(error.description == "\(scratch.file("checkpoint.safetensors").path) holds a 'tiny' model, but the configuration is 'tiny-proposals'; pass --config tiny")
        }
    }

    @Test func aFailedStepNamesTheLastGoodCheckpoint() throws {
        let scratch = try ScratchDirectory("pt-run-diverge")
        defer { scratch.remove() }
        var o = options(out: scratch.url, steps: 50)
        o.learningRate = 1e30  // in range, and the weights overflow within a few steps
        let run = try PaintTransformerTrainingRun(o, brushes: brushes)
        do {
            _ = try run.train()
            Issue.record("training at --lr 1e30 should fail")
        } catch {
            guard case let .stepFailed(.nonFiniteLoss, lastGood) = error else { throw error }
            #expect(lastGood == nil)
            #expect(error.description.hasSuffix("; no checkpoint was written in this run, and nothing was saved after the failure"))
        }
        #expect(try names(in: scratch.url) == [])
        let kept = TrainerError.stepFailed(.stoppedAfterFailure(step: 7), lastGood: ("out/checkpoint.safetensors", 6)).description
        #expect(kept.hasSuffix("the last good checkpoint is out/checkpoint.safetensors (step 6), nothing was saved after the failure"))
    }
}
