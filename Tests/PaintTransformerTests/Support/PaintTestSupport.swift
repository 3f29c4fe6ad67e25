import Foundation
import Atelier
@testable import PaintTransformer

// Helpers shared by the Paint Transformer tests that write files.

/// A fresh empty directory under the system's temporary folder; callers remove it.
func scratchDirectory(_ prefix: String = "paint-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// An untrained `tiny` model saved in `directory` (its strokes are too small to see: for error paths).
func tinyModel(in directory: URL) throws -> URL {
    let network = StrokePredictorNetwork(configuration: .tiny, rng: RandomGenerator(seed: 5))
    let url = directory.appendingPathComponent("tiny.safetensors")
    try PaintTransformerModel.save(network, to: url)
    return url
}
