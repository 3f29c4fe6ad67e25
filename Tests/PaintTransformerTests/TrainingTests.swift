import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

// Network size, the Gaussian Wasserstein term, matching, and short training runs (loss falls, exact resume).

@Test func paperConfigurationHasReferenceParameterCount() {
    let network = StrokePredictorNetwork(configuration: .paper, rng: RandomGenerator(seed: 1))
    #expect(network.parameterCount == 9_072_902)
    let names = Set(network.stateDict().map(\.0))
    for key in ["enc_img.1.weight", "enc_img.2.running_var", "enc_canvas.10.bias", "conv.weight",
                "transformer.encoder.layers.2.self_attn.in_proj_weight", "transformer.encoder.norm.weight",
                "transformer.decoder.layers.0.multihead_attn.out_proj.weight", "transformer.decoder.layers.2.norm3.bias",
                "transformer.decoder.norm.bias", "linear_param.4.weight", "linear_decider.bias", "query_pos",
                "row_embed", "col_embed"] {
        #expect(names.contains(key), "missing \(key)")
    }
}

@Test func networkOutputShapes() {
    let network = StrokePredictorNetwork(configuration: .tiny, rng: RandomGenerator(seed: 2))
    let x = Tensor.uniform([3, 3, 32, 32], rng: RandomGenerator(seed: 3))
    let (shapes, logits) = network(image: x, canvas: x * 0.5)
    #expect(shapes.shape == [3, 8, 5] && logits.shape == [3, 8])
    let finite = shapes.floats().allSatisfy { $0.isFinite }
    #expect(finite)
}

/// Closed form for axis-aligned strokes (θ ∈ {0, ½}): Σ diagonal, W² = ‖Δμ‖² + (σx₁ − σx₂)² + (σy₁ − σy₂)²
/// with σ = half the extent along each screen axis.
@Test func gaussianWassersteinMatchesClosedForm() {
    let cases: [([Double], [Double])] = [
        ([0.3, 0.4, 0.5, 0.2, 0], [0.6, 0.1, 0.3, 0.4, 0]),
        ([0.5, 0.5, 0.2, 0.6, 0], [0.5, 0.5, 0.2, 0.6, 0]),
        ([0.2, 0.7, 0.4, 0.3, 0.5], [0.3, 0.3, 0.5, 0.5, 0]),     // θ = ½: w spans y
        ([0.1, 0.9, 0.6, 0.2, 0.5], [0.4, 0.2, 0.2, 0.6, 0.5]),
    ]
    for (p, q) in cases {
        func sigmas(_ s: [Double]) -> (Double, Double) { s[4] == 0 ? (s[2] / 2, s[3] / 2) : (s[3] / 2, s[2] / 2) }
        let (px, py) = sigmas(p), (qx, qy) = sigmas(q)
        let expected = (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (px - qx) * (px - qx) + (py - qy) * (py - qy)
        let got = PaintTransformerLoss.gaussianWasserstein(
            Tensor(shape: [5], values: p, dtype: .float64), Tensor(shape: [5], values: q, dtype: .float64)).item()
        #expect(abs(got - expected) < 1e-9, "\(p) vs \(q): \(got), expected \(expected)")
    }
    // Rotation invariance of the shape part: the same stroke at any angle against itself is 0, and w ↔ h with a
    // quarter turn is the same Gaussian.
    let a = Tensor(shape: [2, 5], values: [0.4, 0.4, 0.5, 0.2, 0.3, 0.4, 0.4, 0.2, 0.5, 0.8], dtype: .float64)
    let b = Tensor(shape: [2, 5], values: [0.4, 0.4, 0.5, 0.2, 0.3, 0.4, 0.4, 0.5, 0.2, 0.3], dtype: .float64)
    let w = PaintTransformerLoss.gaussianWasserstein(a, b).doubles()
    #expect(abs(w[0]) < 1e-6 && abs(w[1]) < 1e-6, "\(w)")
    // Non-negative for random strokes, equal to the general 2×2 matrix formula.
    var rng = SplitMix64(seed: 4)
    for _ in 0..<50 {
        let p = (0..<5).map { _ in Double(rng.nextUnitFloat()) }, q = (0..<5).map { _ in Double(rng.nextUnitFloat()) }
        let got = PaintTransformerLoss.gaussianWasserstein(
            Tensor(shape: [5], values: p, dtype: .float64), Tensor(shape: [5], values: q, dtype: .float64)).item()
        #expect(got >= -1e-9)
        #expect(abs(got - matrixWasserstein(p, q)) < 1e-9)
    }
}

/// The reference's formula with explicit matrices: Σ₁^½ = R·diag(w/2, h/2)·Rᵀ, T = Σ₁^½ Σ₂ Σ₁^½.
private func matrixWasserstein(_ p: [Double], _ q: [Double]) -> Double {
    func sigma(_ s: [Double], power: Double) -> [Double] {
        let t = Double.pi * s[4], c = cos(t), sn = sin(t)
        let a = pow(s[2] / 2, power), b = pow(s[3] / 2, power)
        return [a * c * c + b * sn * sn, (a - b) * c * sn, (a - b) * c * sn, b * c * c + a * sn * sn]
    }
    func mul(_ x: [Double], _ y: [Double]) -> [Double] {
        [x[0] * y[0] + x[1] * y[2], x[0] * y[1] + x[1] * y[3], x[2] * y[0] + x[3] * y[2], x[2] * y[1] + x[3] * y[3]]
    }
    let r1 = sigma(p, power: 1), s2 = sigma(q, power: 2)
    let t = mul(mul(r1, s2), r1)
    let cross = (t[0] + t[3] + 2 * (t[0] * t[3] - t[1] * t[2]).squareRoot()).squareRoot()
    let mean = (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1])
    return mean + (p[2] * p[2] + p[3] * p[3]) / 4 + (q[2] * q[2] + q[3] * q[3]) / 4 - 2 * cross
}

@Test func matchingHostOpPicksTheOptimalValidColumns() {
    // Sample 0: column 1 invalid. Sample 1: all valid.
    let cost: [Double] = [
        5, 0, 1,   2, 0, 9,   0, 0, 3,
        1, 2, 3,   3, 1, 2,   2, 3, 1,
    ]
    let (assignment, matched) = PaintTransformerLoss.match(
        cost: Tensor(shape: [2, 3, 3], values: cost), validity: Tensor(shape: [2, 3], values: [1, 0, 1, 1, 1, 1]))
    // Sample 0 (columns 0 and 2): rows 1 → 0 (2) and 2 → 2 (3) beat row 0 → 2 (1) + row 2 → 0 (0)? 1 + 0 = 1 < 5.
    #expect(assignment.floats() == [0, 0, 1, 0, 0, 0, 1, 0, 0,  1, 0, 0, 0, 1, 0, 0, 0, 1])
    #expect(matched.floats() == [1, 0, 1, 1, 1, 1])
}

private func run(_ trainer: PaintTransformerTrainer, steps: Int) throws -> [Double] {
    try (0..<steps).map { _ in try trainer.trainStep().losses.total }
}

@Test func tinyTrainingLossFalls() throws {
    let settings = TrainerSettings(configuration: .tiny, batchSize: 8, learningRate: 1e-3, totalSteps: 1000, seed: 7)
    let trainer = try PaintTransformerTrainer(settings: settings, brushes: .oilPaint(size: 64))
    let losses = try run(trainer, steps: 40)
    let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
    #expect(last < 0.7 * first, "mean loss \(first) → \(last)")
}

@Test func resumeGivesIdenticalLosses() throws {
    let scratch = try ScratchDirectory("pt-resume")
    defer { scratch.remove() }
    let directory = scratch.url
    var settings = TrainerSettings(configuration: .tiny, batchSize: 8, learningRate: 1e-3, totalSteps: 8, seed: 3)
    settings.configuration.dropout = 0.1  // the dropout stream must resume too
    let brushes = BrushSet.oilPaint(size: 64)
    let straight = try PaintTransformerTrainer(settings: settings, brushes: brushes)
    let reference = try run(straight, steps: 6)

    let first = try PaintTransformerTrainer(settings: settings, brushes: brushes)
    let before = try run(first, steps: 3)
    let url = directory.appendingPathComponent("checkpoint.safetensors")
    try first.saveCheckpoint(to: url)
    let resumed = try PaintTransformerTrainer.resume(from: url, brushes: brushes)
    #expect(resumed.step == 3)
    let after = try run(resumed, steps: 3)
    #expect(before + after == reference)
}
