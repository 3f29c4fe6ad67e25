import Foundation
import Testing
import Atelier
@testable import PaintTransformer

// The training checkpoint committed in checkpoints/paint-transformer/ resumes (weights, Adam state, both random
// streams, settings) and continues with finite losses, and the shipped F16 model is its weights.

private let checkpoint = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("checkpoints/paint-transformer/checkpoint.safetensors")

@Test func committedCheckpointResumesAndShipsItsWeights() throws {
    let trainer = try PaintTransformerTrainer.resume(from: checkpoint, batchSize: 4)
    #expect(trainer.settings.configuration == .smallProposals)
    #expect(trainer.step == CommittedRun.steps)
    #expect(trainer.settings.lossWeights.parameters == 10 && trainer.settings.lossWeights.decision == 1)
    // The shipped model is this checkpoint's weights in F16.
    let shipped = try PaintTransformerModel.loadShipped()
    #expect(shipped.configuration == .smallProposals)
    let mine = trainer.network.stateDict(), theirs = shipped.stateDict()
    #expect(mine.map(\.0) == theirs.map(\.0))
    var worst: Float = 0
    for ((_, a), (_, b)) in zip(mine, theirs) {
        for (x, y) in zip(a.tensor.floats(), b.tensor.floats()) { worst = max(worst, abs(x - y) / max(1, abs(x))) }
    }
    #expect(worst < 1e-3, "shipped weights differ from the checkpoint by \(worst) (relative)")
    // One more step continues the run.
    let result = try trainer.trainStep()
    #expect(result.losses.total.isFinite && trainer.step == CommittedRun.steps + 1)
}

/// What checkpoints/paint-transformer/README.md says of the committed run.
enum CommittedRun {
    static let steps = 64_000
}
