// `--precision bf16` for TransGAN: the setting is validated naming the flag, stored in the checkpoint's options
// (fp32 options encode exactly as before it existed), reaches both trained networks but not the EMA generator,
// resumes bit for bit, and changes the arithmetic by about bf16's rounding, not more.
import Foundation
import Testing
import Atelier
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct MixedPrecisionTests {
    func descendants(_ m: Module) -> [Module] { [m] + m.children.flatMap { descendants($0.1) } }

    func microFlags(precision: String?) -> TrainingFlags {
        var flags = TrainingFlags()
        flags.config = "micro"; flags.data = "synthetic"; flags.batch = 4; flags.gBatch = 4; flags.nCritic = 1
        flags.gpBatch = 2; flags.seed = 4; flags.precision = precision
        return flags
    }

    @Test func precisionIsValidatedAndStoredOnlyWhenNotFP32() throws {
        #expect(throws: TrainingError.unknownValue(flag: "--precision", value: "fp16", known: ["fp32", "bf16"])) {
            _ = try microFlags(precision: "fp16").newRun()
        }
        #expect(try microFlags(precision: nil).newRun().options.precision == .fp32)
        let fp32 = try microFlags(precision: "fp32").newRun().options, bf16 = try microFlags(precision: "bf16").newRun().options
        #expect(fp32 == (try microFlags(precision: nil).newRun().options))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let fp32JSON = String(decoding: try encoder.encode(fp32), as: UTF8.self), bf16JSON = String(decoding: try encoder.encode(bf16), as: UTF8.self)
        #expect(!fp32JSON.contains("precision"), "\(fp32JSON)")
        #expect(bf16JSON.contains(#""precision":"bf16""#), "\(bf16JSON)")
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(bf16JSON.utf8)) == bf16)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(fp32JSON.utf8)).precision == .fp32)
        let unknown = bf16JSON.replacingOccurrences(of: #""precision":"bf16""#, with: #""precision":"fp16""#)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(TrainingOptions.self, from: Data(unknown.utf8)) }
    }

    @Test func bf16RunReachesBothNetworksAndResumesBitIdentically() throws {
        let run = try microFlags(precision: "bf16").newRun()
        let t = try Trainer(config: run.config, options: run.options, data: run.source.load(size: run.config.imageSize, channels: run.config.channels))
        #expect(descendants(t.generator).allSatisfy { $0.matmulPrecision == .bf16 })
        #expect(descendants(t.discriminator).allSatisfy { $0.matmulPrecision == .bf16 })
        // The EMA generator samples and is scored in fp32.
        #expect(descendants(t.emaGenerator).allSatisfy { $0.matmulPrecision == .fp32 })

        let scratch = try ScratchDirectory("resume-bf16")
        defer { scratch.remove() }
        let url = scratch.file("checkpoint.safetensors")
        let file = try CheckpointSafetyTests().expectResumeContinues(run, checkpoint: url).file
        var same = TrainingFlags()
        same.precision = "bf16"
        #expect(try same.resumedRun(from: file) == run)
        var other = TrainingFlags()
        other.precision = "fp32"
        #expect(throws: TrainingError.resumeConflict(flag: "--precision", given: "fp32", stored: "bf16", checkpoint: url.path)) {
            _ = try other.resumedRun(from: file)
        }
    }

    /// The first step (same weights, data and draws) in both precisions. D's scores pass about a dozen GEMMs
    /// whose bf16 rounding moves each by at most 2⁻⁷ of Σ|a||b| (BF16GEMM.errorBound), with LayerNorm
    /// rescaling between them: a few per cent of the scores' scale at most, where fp32 agrees to ~10⁻⁶.
    @Test func bf16StepDiffersFromFP32ByRoundingOnly() throws {
        func firstStep(_ precision: String) throws -> StepStatistics {
            let run = try microFlags(precision: precision).newRun()
            let t = try Trainer(config: run.config, options: run.options, data: run.source.load(size: run.config.imageSize, channels: run.config.channels))
            return try t.trainStep()
        }
        let fp32 = try firstStep("fp32"), bf16 = try firstStep("bf16")
        let pairs = [("D(real)", fp32.dReal, bf16.dReal), ("D(fake)", fp32.dFake, bf16.dFake), ("D loss", fp32.dLoss, bf16.dLoss),
                     ("G loss", fp32.gLoss ?? .nan, bf16.gLoss ?? .nan)]
        let scale = pairs.map { Swift.abs($0.1) }.max()!
        for (what, a, b) in pairs {
            #expect(Swift.abs(a - b) <= 0.05 * Swift.max(scale, 1e-3), "\(what): fp32 \(a), bf16 \(b)")
        }
        #expect(pairs.contains { $0.1 != $0.2 }, "bf16 gave exactly the fp32 step")
    }
}
}
