import Foundation
import Testing
import Atelier
@testable import PaintTransformer

// The proposal query design: its size and state_dict names, the top-N selection order, the dense targets, and a
// short training run whose loss falls.

@Test func proposalConfigurationParameterCountAndNames() {
    let network = StrokePredictorNetwork(configuration: .smallProposals, rng: RandomGenerator(seed: 1))
    #expect(network.parameterCount == 1_059_724)
    let names = Set(network.stateDict().map(\.0))
    for key in ["enc_img.1.weight", "enc_canvas.10.running_mean", "conv.weight", "transformer.encoder.layers.1.linear2.weight",
                "transformer.decoder.layers.1.multihead_attn.in_proj_weight", "linear_param.4.bias", "linear_decider.weight",
                "proposal.head.0.weight", "proposal.head.4.weight", "proposal.head.4.bias", "proposal_embed.weight",
                "proposal_embed.bias", "row_embed", "col_embed"] {
        #expect(names.contains(key), "missing \(key)")
    }
    #expect(!names.contains("query_pos"))
    // The reference design at the same size keeps its learned queries and has no proposal stage.
    let reference = Set(StrokePredictorNetwork(configuration: .small, rng: RandomGenerator(seed: 1)).stateDict().map(\.0))
    #expect(reference.contains("query_pos") && !reference.contains("proposal_embed.weight"))
}

@Test func proposalNetworkOutputsAndProposalsStartAtCellCentres() {
    let network = StrokePredictorNetwork(configuration: .tinyProposals, rng: RandomGenerator(seed: 2))
    network.eval()
    let x = Tensor.uniform([3, 3, 32, 32], rng: RandomGenerator(seed: 3))
    let prediction = network.predict(image: x, canvas: x * 0.5)
    let (strokes, objectness) = prediction.proposals!
    evaluate([prediction.shapes, prediction.logits, strokes, objectness])
    #expect(prediction.shapes.shape == [3, 8, 5] && prediction.logits.shape == [3, 8])
    #expect(strokes.shape == [3, 64, 5] && objectness.shape == [3, 64])
    // With N(0, 0.02) head weights the proposals sit near their cell centres with the prior shape.
    let s = strokes.floats()
    for token in [0, 9, 63] {
        let cx = (Float(token % 8) + 0.5) / 8, cy = (Float(token / 8) + 0.5) / 8
        #expect(abs(s[token * 5] - cx) < 0.05 && abs(s[token * 5 + 1] - cy) < 0.05, "token \(token): \(s[token * 5]), \(s[token * 5 + 1])")
        #expect(abs(s[token * 5 + 2] - 0.45) < 0.2)
    }
    let finite = prediction.shapes.floats().allSatisfy(\.isFinite)
    #expect(finite)
}

@Test func topProposalsAreOrderedByAscendingObjectness() {
    // 2 samples × 6 tokens; pick 3.
    let scores: [Float] = [0.1, 0.9, -1, 0.5, 0.7, 0.2,
                           3, 2, 1, .nan, 0, 1]  // a NaN sorts last; ties keep the lower token first
    let selection = ProposalHead.selectTop(Tensor(shape: [2, 6], floats: scores), count: 3)
    evaluate([selection])
    let v = selection.floats()
    func chosen(_ s: Int, _ row: Int) -> Int { (0..<6).first { v[(s * 3 + row) * 6 + $0] == 1 }! }
    let first: [Int] = [chosen(0, 0), chosen(0, 1), chosen(0, 2)], second: [Int] = [chosen(1, 0), chosen(1, 1), chosen(1, 2)]
    #expect(first == [3, 4, 1])    // 0.5 < 0.7 < 0.9: the surest is last
    #expect(second == [2, 1, 0])   // 1 (token 2, before token 11), 2, 3
    #expect(v.reduce(0, +) == 6)
}

@Test func proposalTargetsPutEachValidStrokeInItsCentreCell() {
    // One sample, 3 strokes: two share cell (row 2, col 3); the later one (drawn on top) wins. The third is invalid.
    let gt: [Float] = [0.40, 0.30, 0.5, 0.5, 0.1,
                       0.45, 0.36, 0.3, 0.6, 0.2,
                       0.90, 0.90, 0.2, 0.2, 0.3]
    let (targets, positive) = ProposalHead.targets(groundTruth: Tensor(shape: [1, 3, 5], floats: gt),
                                                   validity: Tensor(shape: [1, 3], floats: [1, 1, 0]), grid: 8)
    evaluate([targets, positive])
    let p = positive.floats(), t = targets.floats()
    #expect(p.reduce(0, +) == 1 && p[2 * 8 + 3] == 1)
    #expect(Array(t[((2 * 8 + 3) * 5)..<((2 * 8 + 3) * 5 + 5)]) == Array(gt[5..<10]))
}

@Test func proposalDesignLossFallsOnAFixedBatch() throws {
    // Training steps on freshly drawn batches; compare the mean loss of the first and last few steps.
    let trainer = try PaintTransformerTrainer(settings: TrainerSettings(
        configuration: .tinyProposals, batchSize: 8, learningRate: 1e-3, totalSteps: 1000, seed: 3))
    var losses: [Double] = []
    for _ in 0..<30 {
        let result = try trainer.trainStep()
        losses.append(result.losses.total)
        #expect(result.losses.proposal > 0 && result.losses.proposal.isFinite)
    }
    let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
    #expect(last < first * 0.8, "loss \(first) → \(last)")
}
