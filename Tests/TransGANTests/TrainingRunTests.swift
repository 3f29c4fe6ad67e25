// The library-level training run on `micro` and a few steps: the files it writes on their schedules, a stop
// request that ends it with a checkpoint, and a stopped-and-resumed run that ends bit-identical to one run straight.
import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct TrainingRunTests {
    /// micro on synthetic RGB images, batch 4, one G step per two D steps, nothing scheduled.
    func options(out: URL, steps: Int) -> TrainingRunOptions {
        var o = TrainingRunOptions()
        o.stored.config = "micro"; o.stored.data = "synthetic"; o.stored.seed = 5
        o.stored.batch = 4; o.stored.gBatch = 4; o.stored.nCritic = 2
        o.steps = steps
        o.out = out.path
        o.sampleEvery = 0; o.checkpointEvery = 0
        return o
    }

    func names(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    /// losses.csv without its wall-time column.
    func lossRows(_ folder: URL) throws -> [String] {
        try String(contentsOf: folder.appendingPathComponent("losses.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
    }

    @Test func runWritesEveryFileOnItsSchedule() throws {
        let scratch = try ScratchDirectory("transgan-run-files")
        defer { scratch.remove() }
        let out = scratch.file("out"), board = scratch.file("board")
        var o = options(out: out, steps: 4)
        o.sampleEvery = 2; o.snapshotEvery = 2; o.checkpointEvery = 3; o.logdir = board.path
        var lines: [String] = []
        let run = try TransGANTrainingRun(o) { lines.append($0) }
        let summary = try run.train()
        #expect(summary.firstStep == 0 && summary.step == 4 && !summary.stoppedOnRequest)
        #expect(try names(in: out) == ["checkpoint.safetensors", "gen_ema_000002.safetensors", "gen_ema_000004.safetensors", "losses.csv",
                                       "samples_000002.png", "samples_000004.png", "samples_latest.png"])
        let rows = try lossRows(out)
        #expect(rows.count == 5 && rows[0] == "step,d_loss,g_loss,gp,d_real,d_fake,d_grad_norm,g_grad_norm,ema_beta")
        #expect(rows.dropFirst().map { $0.prefix(2) } == ["0,", "1,", "2,", "3,"])
        #expect(try SafeTensorsFile.read(from: run.checkpointURL).transGANStep() == 4)
        #expect(try SafeTensorsFile.read(from: out.appendingPathComponent("gen_ema_000002.safetensors")).transGANStep() == 2)
        #expect(try tensorBoardEventFiles(in: board).count == 1)
        #expect(lines.contains { $0.hasPrefix("checkpoint (periodic) at step 3") })
        #expect(lines.contains { $0.hasPrefix("checkpoint (completed) at step 4") })
        #expect(lines.last?.hasPrefix("done: 4 steps") == true, "\(lines)")
    }

    @Test func stopRequestEndsTheRunWithACheckpoint() throws {
        let scratch = try ScratchDirectory("transgan-run-stop")
        defer { scratch.remove() }
        var asked = 0
        let summary = try TransGANTrainingRun(options(out: scratch.url, steps: 1000)).train { asked += 1; return asked > 2 }
        #expect(summary.stoppedOnRequest && summary.step == 2)
        #expect(try SafeTensorsFile.read(from: scratch.file("checkpoint.safetensors")).transGANStep() == 2)
        // Stopped, not finished: no last sample grid.
        #expect(try names(in: scratch.url) == ["checkpoint.safetensors", "losses.csv"])
    }

    @Test func stoppedAndResumedRunEqualsOneRunStraight() throws {
        let scratch = try ScratchDirectory("transgan-run-resume")
        defer { scratch.remove() }
        let straight = scratch.file("straight"), split = scratch.file("split")
        _ = try TransGANTrainingRun(options(out: straight, steps: 5)).train()

        var asked = 0
        _ = try TransGANTrainingRun(options(out: split, steps: 5)).train { asked += 1; return asked > 2 }
        // Resumed with the checkpoint alone: every stored option comes from it.
        var resumed = TrainingRunOptions()
        resumed.resume = split.appendingPathComponent("checkpoint.safetensors").path
        resumed.steps = 5; resumed.out = split.path; resumed.sampleEvery = 0; resumed.checkpointEvery = 0
        let run = try TransGANTrainingRun(resumed)
        #expect(run.trainer.step == 2)
        let summary = try run.train()
        #expect(summary.firstStep == 2 && summary.step == 5)
        #expect(try lossRows(split) == lossRows(straight))
        let a = try Data(contentsOf: straight.appendingPathComponent("checkpoint.safetensors"))
        let b = try Data(contentsOf: split.appendingPathComponent("checkpoint.safetensors"))
        #expect(a == b, "the resumed run's checkpoint differs from the straight run's")
    }

    /// Scores on schedule into frechet.csv with calibration.json beside it. The classifier cache is primed with
    /// an untrained classifier and unit statistics (training the real one takes minutes); the ladder needs the
    /// Fashion-MNIST train split.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: ImageDataset.fashionMNISTDirectory.appendingPathComponent("train-images-idx3-ubyte.gz").path),
                   "needs Debian's dataset-fashion-mnist (.ci/run installs it)"))
    func evaluationScoresOnItsSchedule() throws {
        let scratch = try ScratchDirectory("transgan-run-eval")
        defer { scratch.remove() }
        let cache = scratch.file("cache"), out = scratch.file("out")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let d = FeatureClassifier.featureDim
        var primed = SafeTensorsFile()
        primed.store(FeatureClassifier(channels: 1, rng: RandomGenerator(seed: 1)), prefix: "classifier.")
        let identity = (0..<d * d).map { $0 % (d + 1) == 0 ? 1.0 : 0.0 }
        for split in ["train", "test"] {
            primed.tensors["\(split)_mean"] = SafeTensorsEntry(doubles: [Double](repeating: 0, count: d), shape: [d])
            primed.tensors["\(split)_cov"] = SafeTensorsEntry(doubles: identity, shape: [d, d])
        }
        let g = RandomGenerator(seed: 2)
        primed.tensors["test_features"] = SafeTensorsEntry(doubles: (0..<(8 * d)).map { _ in g.nextUniform() }, shape: [8, d])
        try primed.write(to: FrechetEvaluator.cacheURL(in: cache, classifierSteps: FrechetEvaluator.defaultClassifierSteps))

        var o = options(out: out, steps: 4)
        o.stored.data = "fashion-mnist"
        o.evalEvery = 2; o.evalSamples = 10; o.evalCache = cache.path
        _ = try TransGANTrainingRun(o).train()
        let rows = try String(contentsOf: out.appendingPathComponent("frechet.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[0] == "step,frechet,kid,samples,training_seconds,class_entropy")
        #expect(rows[1].hasPrefix("2,") && rows[2].hasPrefix("4,") && rows[2].split(separator: ",")[3] == "10", "\(rows)")
        let rungs = try JSONDecoder().decode([CalibrationRung].self, from: Data(contentsOf: out.appendingPathComponent("calibration.json")))
        #expect(rungs.map(\.name) == CalibrationLadder.rungNames)
    }
}
}
