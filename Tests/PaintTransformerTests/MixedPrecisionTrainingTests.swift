// `--precision bf16` for the Paint Transformer: validated naming the flag, stored in checkpoints only when not
// fp32 (fp32 checkpoints stay as before), kept on resume unless overridden, refused when the stored value is
// unknown; and a bf16 run learns as the fp32 one does (tinyTrainingLossFalls' criterion).
import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

@Suite struct MixedPrecisionTrainingTests {
    func descendants(_ m: Module) -> [Module] { [m] + m.children.flatMap { descendants($0.1) } }

    @Test func unknownPrecisionNamesTheFlag() throws {
        var o = PaintTransformerTrainingRunOptions()
        o.precision = "fp16"
        do {
            try o.validate()
            Issue.record("fp16 accepted")
        } catch {
            #expect(error.description == "unknown --precision 'fp16'; use one of fp32, bf16")
        }
        o.precision = "bf16"
        #expect(try o.newRunSettings().precision == .bf16)
        o.precision = nil
        #expect(try o.newRunSettings().precision == .fp32)
    }

    @Test func precisionIsStoredAndResumed() throws {
        let scratch = try ScratchDirectory("pt-bf16")
        defer { scratch.remove() }
        let brushes = BrushSet.oilPaint(size: 64)
        var settings = TrainerSettings(configuration: .tiny, batchSize: 8, learningRate: 1e-3, totalSteps: 8, seed: 3)
        settings.precision = .bf16
        let straight = try PaintTransformerTrainer(settings: settings, brushes: brushes)
        #expect(descendants(straight.network).allSatisfy { $0.matmulPrecision == .bf16 })
        let reference = try (0..<4).map { _ in try straight.trainStep().losses.total }

        let first = try PaintTransformerTrainer(settings: settings, brushes: brushes)
        let before = try (0..<2).map { _ in try first.trainStep().losses.total }
        let url = scratch.file("checkpoint.safetensors")
        try first.saveCheckpoint(to: url)
        #expect(try SafeTensorsFile.read(from: url).metadata["precision"] == "bf16")
        let resumed = try PaintTransformerTrainer.resume(from: url, brushes: brushes)
        #expect(resumed.settings.precision == .bf16)
        #expect(descendants(resumed.network).allSatisfy { $0.matmulPrecision == .bf16 })
        let after = try (0..<2).map { _ in try resumed.trainStep().losses.total }
        #expect(before + after == reference)
        #expect(try PaintTransformerTrainer.resume(from: url, precision: .fp32, brushes: brushes).settings.precision == .fp32)

        var file = try SafeTensorsFile.read(from: url)
        file.metadata["precision"] = "fp16"
        try file.write(to: url)
        #expect(throws: TrainerError.self) { _ = try PaintTransformerTrainer.resume(from: url, brushes: brushes) }
        do { _ = try PaintTransformerTrainer.resume(from: url, brushes: brushes) } catch {
            #expect(error.description.contains("precision") && error.description.contains("fp16"), "\(error)")
        }

        settings.precision = .fp32
        let plain = try PaintTransformerTrainer(settings: settings, brushes: brushes)
        let fp32URL = scratch.file("fp32.safetensors")
        try plain.saveCheckpoint(to: fp32URL)
        #expect(try SafeTensorsFile.read(from: fp32URL).metadata["precision"] == nil)
        #expect(try PaintTransformerTrainer.resume(from: fp32URL, brushes: brushes).settings.precision == .fp32)
    }

    @Test func bf16TrainingLossFalls() throws {
        var settings = TrainerSettings(configuration: .tiny, batchSize: 8, learningRate: 1e-3, totalSteps: 1000, seed: 7)
        settings.precision = .bf16
        let trainer = try PaintTransformerTrainer(settings: settings, brushes: .oilPaint(size: 64))
        let losses = try (0..<40).map { _ in try trainer.trainStep().losses.total }
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        #expect(last < 0.7 * first, "mean loss \(first) → \(last)")
    }
}
