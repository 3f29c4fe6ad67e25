import Foundation
import Atelier
@testable import PaintTransformer

// Helpers shared by the Paint Transformer tests that write files.

/// An untrained `tiny` model saved in `directory` (its strokes are too small to see: for error paths).
func tinyModel(in directory: URL) throws -> URL {
    let network = StrokePredictorNetwork(configuration: .tiny, rng: RandomGenerator(seed: 5))
    let url = directory.appendingPathComponent("tiny.safetensors")
    try PaintTransformerModel.save(network, to: url)
    return url
}
