// The checkpoints fuzz corpus replayed by `swift test` through the engine's safetensors reader: every file must
// parse or be refused naming itself. AtelierMediaTests replays the image and dataset corpora, the model test
// targets their own loaders'.
import Foundation
import Testing
@testable import Atelier
import TestSupport

extension IOTests {
@Suite("IO.FuzzCorpus")
struct FuzzCorpusTests {
    @Test func safetensorsRegressionsAreRefusedOrParseAndSeedsParse() throws {
        for url in try FuzzInputs.files("regressions", "checkpoints") {
            // Some are valid safetensors files whose metadata the model loaders refuse (TransGANTests replays those).
            do { _ = try SafeTensorsFile.read(from: url) } catch { #expect(error.path == url.path) }
        }
        for url in try FuzzInputs.files("corpus", "checkpoints") {
            #expect(throws: Never.self, "\(url.lastPathComponent)") { try SafeTensorsFile.read(from: url) }
        }
    }
}
}
