import Foundation
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

// The synthetic validation metrics: perfect predictions score perfectly, a content-independent predictor scores
// exactly its own baseline, and the baseline of a real network is its per-query mean.

@Test func perfectPredictionsScorePerfectly() {
    let validation = SyntheticValidation(patches: 16, seed: 11)
    let batch = validation.batch
    // The ground truth itself, kept exactly where valid.
    let logits = batch.validity.map { $0 > 0.5 ? Float(5) : -5 }
    let m = validation.score(shapes: batch.params, logits: logits)
    #expect(m.parameterL1 < 1e-6 && abs(m.wasserstein) < 1e-5)
    #expect(m.decisionPrecision == 1 && m.decisionRecall == 1 && m.decisionF1 == 1)
    #expect(m.detectionPrecision == 1 && m.detectionRecall == 1)
    let valid = Double(batch.validity.reduce(0, +)) / Double(batch.validity.count)
    #expect(abs(m.keptFraction - valid) < 1e-9)
}

@Test func aContentIndependentPredictorIsNoBetterThanItsBaseline() {
    // Every patch gets the same 8 strokes: its per-query mean is itself, so model and baseline agree exactly.
    let validation = SyntheticValidation(patches: 16, seed: 12)
    let template: [Float] = (0..<8).flatMap { i in [0.3 + 0.05 * Float(i), 0.45, 0.4, 0.4, 0.5] }
    let shapes = (0..<16).flatMap { _ in template }
    let logits = [Float](repeating: 1, count: 16 * 8)
    let model = validation.score(shapes: shapes, logits: logits)
    let perfect = validation.score(shapes: validation.batch.params, logits: validation.batch.validity.map { $0 > 0.5 ? 1 : -1 })
    #expect(model.parameterL1 > perfect.parameterL1 + 0.05)
    #expect(model.pixelL1 > perfect.pixelL1)
    // Through `evaluate`: a network's baseline row is its per-query mean prediction; a freshly initialised
    // network predicts nearly the same for every patch, so it sits at its baseline.
    let network = StrokePredictorNetwork(configuration: .tiny, rng: RandomGenerator(seed: 4))
    let report = validation.evaluate(network, chunk: 8)
    #expect(abs(report.model.parameterL1 - report.baseline.parameterL1) < 0.01)
    #expect(report.patches == 16)
}

@Test func wassersteinOnTheHostMatchesTheLoss() {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<20 {
        let p = (0..<5).map { _ in Double(rng.nextUnitFloat()) }, q = (0..<5).map { _ in Double(rng.nextUnitFloat()) }
        let engine = PaintTransformerLoss.gaussianWasserstein(
            Tensor(shape: [5], values: p, dtype: .float64), Tensor(shape: [5], values: q, dtype: .float64)).item()
        #expect(abs(SyntheticValidation.wasserstein(p, q) - engine) < 1e-9)
    }
}

@Test func validationLogKeepsEarlierStepsAndReplacesLaterOnes() throws {
    let scratch = try ScratchDirectory("validation-log")
    defer { scratch.remove() }
    let directory = scratch.url
    let url = directory.appendingPathComponent("validation.csv")
    let validation = SyntheticValidation(patches: 8, seed: 13)
    let m = validation.score(shapes: validation.batch.params, logits: validation.batch.validity)
    let report = SyntheticValidationReport(model: m, baseline: m, patches: 8)
    for step in [0, 250, 500] { try ValidationLog.append(report, step: step, to: url) }
    try ValidationLog.append(report, step: 250, to: url)  // a resume from step 250 repeats it
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3 && lines[0] == Substring(ValidationLog.header))
    #expect(lines.map { $0.split(separator: ",")[0] } == ["step", "0", "250"])
}
