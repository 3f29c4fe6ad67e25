import Foundation
import Testing
@testable import Atelier
@testable import PaintTransformer
import TestSupport

// Attention projects inputs that are one tensor (encoder self-attention, the decoder's memory as key and value)
// with one GEMM. The shipped model must paint as before and the paper network must train as before: both are
// compared with every attention module switched back to one projection per part.

private func attentionModules(_ m: Module) -> [MultiheadAttention] {
    let own = (m as? MultiheadAttention).map { [$0] } ?? []
    return own + m.children.flatMap { attentionModules($0.1) }
}

/// The prediction's tensors with projections shared or not, the network's dropout stream replayed.
private func predict(_ network: StrokePredictorNetwork, image: Tensor, canvas: Tensor, shared: Bool,
                     gradients withGradients: Bool) -> [[Float]] {
    for m in attentionModules(network) { m.sharesProjections = shared }
    let (seed, offset) = (network.rng.seed, network.rng.offset)
    defer { network.rng.reposition(seed: seed, offset: offset) }
    let p = network.predict(image: image, canvas: canvas)
    var outputs = [p.shapes, p.logits] + (p.proposals.map { [$0.strokes, $0.objectness] } ?? [])
    if withGradients {
        var rng = TestRNG(8)
        let loss = (p.shapes * Tensor(shape: p.shapes.shape, floats: rng.floats(p.shapes.count))).sum()
            + (p.logits * Tensor(shape: p.logits.shape, floats: rng.floats(p.logits.count))).sum()
        outputs += gradients(of: loss, wrt: network.parameters().map(\.tensor))
    }
    evaluate(outputs)
    return outputs.map { $0.floats() }
}

private func patches(_ count: Int, seed: UInt64) -> (Tensor, Tensor) {
    let rng = RandomGenerator(seed: seed)
    return (Tensor.uniform([count, 3, 32, 32], rng: rng), Tensor.uniform([count, 3, 32, 32], rng: rng))
}

/// Worst difference of each pair of arrays relative to the larger of 1 and the reference's magnitude.
private func worstRelative(_ a: [[Float]], _ b: [[Float]]) -> Double {
    zip(a, b).map { x, y in maxAbsDifference(x, y) / max(1, Double(y.map(abs).max() ?? 0)) }.max() ?? 0
}

@Test func shippedModelPredictsAsWithOneProjectionPerPart() throws {
    let network = try PaintTransformerModel.loadShipped()
    network.eval()
    let (image, canvas) = patches(32, seed: 21)
    let shared = predict(network, image: image, canvas: canvas, shared: true, gradients: false)
    let perPart = predict(network, image: image, canvas: canvas, shared: false, gradients: false)
    #expect(worstRelative(shared, perPart) < 1e-5, "shipped model: outputs differ by \(worstRelative(shared, perPart))")
}

@Test func paperNetworkTrainsAsWithOneProjectionPerPart() {
    let network = StrokePredictorNetwork(configuration: .paper, rng: RandomGenerator(seed: 5))
    network.train()
    let (image, canvas) = patches(2, seed: 22)
    let shared = predict(network, image: image, canvas: canvas, shared: true, gradients: true)
    let perPart = predict(network, image: image, canvas: canvas, shared: false, gradients: true)
    #expect(worstRelative(shared, perPart) < 1e-5, "paper network: outputs or gradients differ by \(worstRelative(shared, perPart))")
}
