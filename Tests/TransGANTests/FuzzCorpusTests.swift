// The checkpoints fuzz target's corpora (Fuzz/corpus/checkpoints, Fuzz/regressions/checkpoints) through what
// train-transgan --resume and transgan-sample validate: every known-bad file is refused with a typed error, and the
// TransGAN seed carries a configuration and options that pass, so the fuzzer starts past that validation.
import Foundation
import Testing
import Atelier
@testable import TransGAN

extension TransGANTests {
@Suite struct FuzzCorpusTests {
    static func file(_ kind: String, _ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/\(kind)/checkpoints/\(name)")
    }

    @Test func checkpointRegressionsAreRefused() throws {
        let folder = Self.file("regressions", "")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.contains("transgan-huge-latent.safetensors"))
        for name in names {
            do {
                let file = try SafeTensorsFile.read(from: folder.appendingPathComponent(name))
                _ = try file.transGANConfiguration()
                Issue.record("\(name) passed as a TransGAN checkpoint")
            } catch let error as CheckpointError {
                #expect(error.path.hasSuffix(name))
            } catch let error as TrainingError {
                #expect("\(error)".contains(name))
            }
        }
    }

    @Test func transGANSeedPassesValidation() throws {
        let file = try SafeTensorsFile.read(from: Self.file("corpus", "transgan.safetensors"))
        let config = try file.transGANConfiguration()
        #expect(config == .micro)
        #expect(try file.transGANOptions(for: config)?.data == "synthetic")
        #expect(try file.transGANStep() == 12)
        #expect(try TrainingFlags().resumedRun(from: file).config == .micro)
    }
}
}
