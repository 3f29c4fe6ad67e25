// Nothing in a TransGAN checkpoint is trusted because it parses: impossible stored configurations and NaN
// weights are refused naming the file (and tensor); a non-finite training value is never applied or saved;
// and `--resume CHECKPOINT` alone continues a run with every stored option (issue 11's resume failure).
import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct CheckpointSafetyTests {
    func microOptions() -> TrainingOptions {
        var o = TrainingOptions()
        o.batch = 4; o.gBatch = 4; o.nCritic = 2; o.emaKimg = 1; o.seed = 11
        return o
    }

    func microTrainer(data: ImageDataset? = nil) throws -> Trainer {
        try Trainer(config: .micro, options: microOptions(), data: data ?? DataSource.synthetic(count: 32, channels: 3, size: 32, seed: 3))
    }

    @Test func impossibleStoredConfigurationIsRefused() throws {
        let t = try microTrainer()
        for (field, change) in [("latent", { (c: inout TransGANConfiguration) in c.latentDim = 1 << 40 }),
                                ("generator dim", { $0.gfDim = 1 << 40 }),
                                ("bottom width", { $0.bottomWidth = 1 << 31 })] {
            var file = try t.generatorSnapshot()
            file.source = "bad-\(field).safetensors"
            var c = TransGANConfiguration.micro
            change(&c)
            file.metadata["config"] = Trainer.json(c)
            do {
                _ = try Trainer.loadGenerators(from: file)
                Issue.record("\(field): a stored configuration of \(c) should be refused")
            } catch let TrainingError.invalidCheckpoint(path, reason) {
                #expect(path == "bad-\(field).safetensors")
                #expect(reason.contains(field), "\(reason)")
            }
            var full = try t.checkpoint()
            full.metadata["config"] = Trainer.json(c)
            #expect(throws: TrainingError.self) { try t.restore(from: full) }
        }
        var file = try t.checkpoint()
        file.metadata["step"] = "-4"
        #expect(throws: TrainingError.self) { try t.restore(from: file) }
        file = try t.checkpoint()
        file.metadata["options"] = file.metadata["options"]!.replacingOccurrences(of: "\"batch\":4", with: "\"batch\":1000000000")
        #expect(throws: TrainingError.self) { try t.restore(from: file) }
    }

    @Test func nonFiniteStoredWeightsAreRefused() throws {
        let t = try microTrainer()
        var file = try t.generatorSnapshot()
        file.source = "nan.safetensors"
        var w = file.tensors["gen_ema.l1.weight"]!.floats()
        w[7] = .nan
        file.tensors["gen_ema.l1.weight"] = SafeTensorsEntry(floats: w, shape: file.tensors["gen_ema.l1.weight"]!.shape)
        #expect(throws: TrainingError.nonFiniteTensor(path: "nan.safetensors", tensor: "gen_ema.l1.weight")) {
            _ = try Trainer.loadGenerators(from: file)
        }
        var full = try t.checkpoint()
        full.source = "nan.safetensors"
        var m = full.tensors["opt_dis.exp_avg_sq.head.weight"]!.floats()
        m[0] = .infinity
        full.tensors["opt_dis.exp_avg_sq.head.weight"] = SafeTensorsEntry(floats: m, shape: full.tensors["opt_dis.exp_avg_sq.head.weight"]!.shape)
        #expect(throws: TrainingError.nonFiniteTensor(path: "nan.safetensors", tensor: "opt_dis.exp_avg_sq.head.weight")) {
            try t.restore(from: full)
        }
    }

    @Test func nonFiniteStepIsNeitherAppliedNorSaved() throws {
        let good = DataSource.synthetic(count: 8, channels: 3, size: 32, seed: 3)
        // All NaN: a single bad pixel could be shifted out by the translation augmentation.
        let pixels = [Float](repeating: .nan, count: good.pixels.count)
        let bad = ImageDataset(channels: 3, height: 32, width: 32, pixels: pixels, labels: good.labels, classNames: good.classNames)
        let t = try microTrainer(data: bad)
        let scratch = try ScratchDirectory("last-good")
        defer { scratch.remove() }
        let url = scratch.file("checkpoint.safetensors")
        try t.saveCheckpoint(to: url)
        let saved = try Data(contentsOf: url)
        let before = t.discriminator.namedParameters().map { $0.1.tensor.floats() }
        do {
            try t.trainStep()
            Issue.record("a NaN image should make the D loss non-finite")
        } catch let TrainingError.nonFinite(step, what) {
            #expect(step == 0 && what.hasPrefix("D loss"), "\(what)")
        }
        #expect(t.discriminator.namedParameters().map { $0.1.tensor.floats() } == before)
        #expect(t.dOptimizer.stepCount == 0 && t.step == 0 && t.failedStep == 0)
        #expect(throws: TrainingError.stoppedAfterFailure(step: 0)) { try t.trainStep() }
        #expect(throws: TrainingError.stoppedAfterFailure(step: 0)) { try t.saveCheckpoint(to: url) }
        #expect(throws: TrainingError.stoppedAfterFailure(step: 0)) { _ = try t.generatorSnapshot() }
        #expect(try Data(contentsOf: url) == saved)
    }

    @Test func mismatchedConfigurationNamesTheField() throws {
        var o = microOptions()
        o.batch = 2
        var windowed = TransGANConfiguration.micro
        windowed.gridAttentionFrom = 16; windowed.gWindow = 8
        let a = try Trainer(config: windowed, options: o, data: DataSource.synthetic(count: 4, channels: 3, size: 32, seed: 1))
        let b = try Trainer(config: .micro, options: o, data: DataSource.synthetic(count: 4, channels: 3, size: 32, seed: 1))
        do {
            try b.restore(from: a.checkpoint())
            Issue.record("configurations differ")
        } catch let TrainingError.incompatibleCheckpoint(_, reason) {
            #expect(reason.contains("g-window 8 vs 16") && reason.contains("grid-from 16 vs 64"), "\(reason)")
        }
    }

    /// Two steps of `run`, a checkpoint at `url`, two more; a resume from the checkpoint with no flag must rebuild
    /// the same run and repeat those two steps bit for bit. Returns the first trainer and the checkpoint read back.
    func expectResumeContinues(_ run: TrainingFlags.Run, checkpoint url: URL) throws -> (trainer: Trainer, file: SafeTensorsFile) {
        func trainer(_ run: TrainingFlags.Run) throws -> Trainer {
            try Trainer(config: run.config, options: run.options, data: run.source.load(size: run.config.imageSize, channels: run.config.channels))
        }
        let a = try trainer(run)
        for _ in 0..<2 { try a.trainStep() }
        try a.saveCheckpoint(to: url)
        var continued: [StepStatistics] = []
        for _ in 0..<2 { continued.append(try a.trainStep()) }

        let file = try SafeTensorsFile.read(from: url)
        let resumed = try TrainingFlags().resumedRun(from: file)
        #expect(resumed == run)
        let b = try trainer(resumed)
        try b.restore(from: file)
        #expect(b.step == 2)
        var again: [StepStatistics] = []
        for _ in 0..<2 { again.append(try b.trainStep()) }
        #expect(again == continued)
        return (a, file)
    }

    /// The README's recipe in miniature: non-default g-window and grid-from, resumed with no shaping flag.
    @Test func resumeWithTheCheckpointAloneContinuesTheRun() throws {
        var flags = TrainingFlags()
        flags.config = "micro"; flags.gWindow = 8; flags.gridFrom = 16; flags.data = "synthetic"
        flags.batch = 4; flags.gBatch = 4; flags.nCritic = 1; flags.gpBatch = 2; flags.gLr = 2e-4; flags.dLr = 6e-4
        flags.augment = "translation"; flags.emaWarmup = 0.05; flags.seed = 2
        let run = try flags.newRun()
        #expect(run.config.stageWindows == [8, 8, 8])
        let scratch = try ScratchDirectory("resume")
        defer { scratch.remove() }
        let url = scratch.file("checkpoint.safetensors")
        let (a, file) = try expectResumeContinues(run, checkpoint: url)

        // Repeating a stored value is fine; contradicting one names the flag and both values.
        var same = TrainingFlags()
        same.gridFrom = 16; same.batch = 4; same.lr = nil; same.gLr = 2e-4; same.config = "micro"
        #expect(try same.resumedRun(from: file) == run)
        var other = TrainingFlags()
        other.gridFrom = 64
        #expect(throws: TrainingError.resumeConflict(flag: "--grid-from", given: "64", stored: "16", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
        other = TrainingFlags(); other.lr = 1e-4
        #expect(throws: TrainingError.resumeConflict(flag: "--lr", given: "0.0001", stored: "0.0002", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
        other = TrainingFlags(); other.data = "fashion-mnist"
        #expect(throws: TrainingError.resumeConflict(flag: "--data", given: "fashion-mnist", stored: "synthetic", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
        // A generator snapshot is not a checkpoint to resume from.
        #expect(throws: TrainingError.self) { _ = try TrainingFlags().resumedRun(from: a.generatorSnapshot()) }
    }

    /// The shape overrides are stored: a resume with no flag continues bit-identically, and a contradicting
    /// --g-dims or --d-patch names the flag.
    @Test func resumeKeepsTheShapeOverrides() throws {
        var flags = TrainingFlags()
        flags.config = "micro"; flags.gDims = [128, 64, 32]; flags.dDim = 32; flags.dDepth = 2; flags.dPatch = 4
        flags.data = "synthetic"; flags.batch = 4; flags.gBatch = 4; flags.nCritic = 1; flags.gpBatch = 2; flags.seed = 3
        let run = try flags.newRun()
        #expect(run.config.stageDims == [128, 64, 32] && run.config.dSides == (8, 4))
        let scratch = try ScratchDirectory("resume-shapes")
        defer { scratch.remove() }
        let url = scratch.file("checkpoint.safetensors")
        let file = try expectResumeContinues(run, checkpoint: url).file

        var same = TrainingFlags()
        same.gDims = [128, 64, 32]; same.dPatch = 4; same.dDim = 32; same.dDepth = 2
        #expect(try same.resumedRun(from: file) == run)
        var other = TrainingFlags()
        other.gDims = [128, 32, 8]
        #expect(throws: TrainingError.resumeConflict(flag: "--g-dims", given: "128,32,8", stored: "128,64,32", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
        other = TrainingFlags(); other.dPatch = 2
        #expect(throws: TrainingError.resumeConflict(flag: "--d-patch", given: "2", stored: "4", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
    }

    @Test func optionsFromAnOlderCheckpointDecodeWithDefaults() throws {
        // Written before r1Gamma, gpEvery, gpBatch, data and precision existed.
        let json = #"{"augment":"translation","batch":16,"beta1":0,"beta2":0.99,"clipNorm":5,"dLearningRate":0.0006,"driftWeight":0.001,"#
            + #""emaBeta":0.9999,"emaKimg":500,"emaWarmup":0.05,"flip":true,"gBatch":16,"gLearningRate":0.0002,"gpWeight":10,"#
            + #""loss":"wgangp-eps","nCritic":1,"seed":2}"#
        let o = try JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8))
        #expect(o.batch == 16 && o.gpEvery == 1 && o.gpBatch == nil && o.r1Gamma == 0.1 && o.data == nil && o.dLearningRate == 6e-4)
        #expect(o.precision == .fp32)
    }
}
}
