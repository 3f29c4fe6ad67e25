// The brushes and checkpoints fuzz targets' corpora through Paint Transformer's loaders: every known-bad brush
// image is refused with a typed error and every seed loads as a brush; the Paint Transformer checkpoint seed passes
// every metadata check of PaintTransformerTrainer.resume and stops only at its missing weights.
import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

@Test func brushRegressionsAreRefusedAndSeedsLoad() throws {
    let bad = try FuzzInputs.files("regressions", "brushes")
    #expect(bad.count >= 13)
    for url in bad {
        #expect(throws: PaintJobError.self, "\(url.lastPathComponent)") { try PaintJob.loadBrush(url) }
    }
    for url in try FuzzInputs.files("corpus", "brushes") {
        #expect(throws: Never.self, "\(url.lastPathComponent)") { try PaintJob.loadBrush(url) }
    }
}

@Test func paintTransformerCheckpointSeedPassesMetadataChecks() throws {
    let seed = try #require(try FuzzInputs.files("corpus", "checkpoints").first { $0.lastPathComponent == "paint-transformer.safetensors" })
    #expect {
        try PaintTransformerTrainer.resume(from: seed)
    } throws: { error in
        guard case let .checkpoint(.missingKey(_, key))? = error as? TrainerError else { return false }
        return !key.isEmpty
    }
}
