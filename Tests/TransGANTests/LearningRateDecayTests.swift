// `--lr-decay START:END`: the factor's shape, the flag's errors, the options' storage (absent when unused, so
// older checkpoints read the same), the trainer applying it (a rate of 0 leaves the weights where they are), and
// the resume rules (a decay may be added to a run that has none; a stored one must be repeated as it is).
import Foundation
import Testing
import Atelier
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct LearningRateDecayTests {
    @Test func factorIsOneThenLinearToZero() {
        let d = LearningRateDecay(start: 100, end: 300)
        #expect(d.factor(atStep: 0) == 1)
        #expect(d.factor(atStep: 100) == 1)
        #expect(d.factor(atStep: 150) == 0.75)
        #expect(d.factor(atStep: 200) == 0.5)
        #expect(d.factor(atStep: 299) == 0.005)
        #expect(d.factor(atStep: 300) == 0)
        #expect(d.factor(atStep: 10_000) == 0)
    }

    @Test func badValuesNameTheFlag() throws {
        #expect(try LearningRateDecay(parsing: "6000:12000") == LearningRateDecay(start: 6000, end: 12000))
        #expect(try LearningRateDecay(parsing: " 0 : 5 ") == LearningRateDecay(start: 0, end: 5))
        for text in ["", "12000", "a:b", "1:2:3", "-1:10", "10:10", "10:5", "0:2000000000", "1.5:3"] {
            do {
                _ = try LearningRateDecay(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch let TrainingError.invalidOption(flag, _, _) {
                #expect(flag == "--lr-decay", "'\(text)'")
            } catch { Issue.record("'\(text)': \(error)") }
        }
    }

    @Test func storedOnlyWhenSet() throws {
        let plain = String(decoding: try JSONEncoder().encode(TrainingOptions()), as: UTF8.self)
        #expect(!plain.contains("lrDecay"))
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(plain.utf8)).lrDecay == nil)
        var options = TrainingOptions()
        options.lrDecay = LearningRateDecay(start: 3, end: 9)
        let back = try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(options))
        #expect(back == options)
        let rates = back.learningRates(atStep: 6)
        #expect(rates.g == options.gLearningRate * 0.5 && rates.d == options.dLearningRate * 0.5)
    }

    func microTrainer(decay: LearningRateDecay?) throws -> Trainer {
        var options = TrainingOptions()
        options.batch = 4; options.gBatch = 4; options.nCritic = 1; options.seed = 5; options.emaKimg = 1
        options.gLearningRate = 2e-4; options.dLearningRate = 6e-4
        options.lrDecay = decay
        return try Trainer(config: .micro, options: options, data: DataSource.synthetic(count: 16, channels: 3, size: 32, seed: 3))
    }

    /// Steps 0 and 1 run at full and half rate; from step 2 the rate is 0 and neither network moves (Adam's step is
    /// proportional to the rate), while an undecayed twin's weights do.
    @Test func trainerFollowsTheSchedule() throws {
        let t = try microTrainer(decay: LearningRateDecay(start: 0, end: 2))
        let twin = try microTrainer(decay: nil)
        _ = try t.trainStep(); _ = try twin.trainStep()
        #expect(t.dOptimizer.learningRate == 6e-4 && t.gOptimizer.learningRate == 2e-4)
        _ = try t.trainStep(); _ = try twin.trainStep()
        #expect(t.dOptimizer.learningRate == 3e-4 && t.gOptimizer.learningRate == 1e-4)
        func weights(_ t: Trainer) -> [[Float]] {
            (t.generator.parameters() + t.discriminator.parameters()).map { $0.tensor.floats() }
        }
        let before = weights(t), twinBefore = weights(twin)
        _ = try t.trainStep(); _ = try twin.trainStep()
        #expect(t.dOptimizer.learningRate == 0 && t.gOptimizer.learningRate == 0)
        #expect(weights(t) == before)
        #expect(weights(twin) != twinBefore)
    }

    @Test func resumeMayAddADecayButNotChangeOne() throws {
        var flags = TrainingFlags()
        flags.config = "micro"; flags.data = "synthetic"; flags.batch = 4; flags.gBatch = 4; flags.seed = 2
        let scratch = try ScratchDirectory("lr-decay")
        defer { scratch.remove() }
        let run = try flags.newRun()
        let trainer = try Trainer(config: run.config, options: run.options,
                                  data: run.source.load(size: run.config.imageSize, channels: run.config.channels))
        let url = scratch.file("checkpoint.safetensors")
        try trainer.saveCheckpoint(to: url)
        let file = try SafeTensorsFile.read(from: url)

        var resume = TrainingFlags()
        resume.lrDecay = "10:20"
        #expect(try resume.resumedRun(from: file).options.lrDecay == LearningRateDecay(start: 10, end: 20))
        #expect(try TrainingFlags().resumedRun(from: file).options.lrDecay == nil)

        flags.lrDecay = "10:20"
        let decayed = try flags.newRun()
        let stored = try Trainer(config: decayed.config, options: decayed.options,
                                 data: decayed.source.load(size: decayed.config.imageSize, channels: decayed.config.channels))
        let url2 = scratch.file("decayed.safetensors")
        try stored.saveCheckpoint(to: url2)
        let file2 = try SafeTensorsFile.read(from: url2)
        #expect(try TrainingFlags().resumedRun(from: file2).options.lrDecay == LearningRateDecay(start: 10, end: 20))
        #expect(try resume.resumedRun(from: file2).options.lrDecay == LearningRateDecay(start: 10, end: 20))
        resume.lrDecay = "10:30"
        #expect(throws: TrainingError.resumeConflict(flag: "--lr-decay", given: "10:30", stored: "10:20", checkpoint: url2.path)) {
            _ = try resume.resumedRun(from: file2)
        }
    }
}
}
