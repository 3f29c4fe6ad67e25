import Foundation
import Testing
import Atelier
@testable import PaintTransformer

// The symmetric stroke L1 and the loss-weight option.

@Test func strokeL1TreatsEquivalentStrokesAsEqualAndMatchesTheHostMetric() {
    let p: [Double] = [0.4, 0.5, 0.6, 0.3, 0.1]
    // The same ellipse three ways: itself, w ↔ h with a quarter turn, and half a turn further (θ + 1).
    for g in [p, [0.4, 0.5, 0.3, 0.6, 0.6], [0.4, 0.5, 0.6, 0.3, 1.1], [0.4, 0.5, 0.3, 0.6, -0.4]] {
        let l1 = PaintTransformerLoss.strokeL1(Tensor(shape: [5], values: p, dtype: .float64),
                                               Tensor(shape: [5], values: g, dtype: .float64)).item()
        #expect(abs(l1) < 1e-12, "\(g): \(l1)")
    }
    // θ is periodic: 0.95 and 0.05 are 0.1 apart.
    let wrap = PaintTransformerLoss.strokeL1(Tensor(shape: [5], values: [0.5, 0.5, 0.6, 0.2, 0.95], dtype: .float64),
                                             Tensor(shape: [5], values: [0.5, 0.5, 0.6, 0.2, 0.05], dtype: .float64)).item()
    #expect(abs(wrap - 0.1) < 1e-12)
    // Random pairs: the engine and the validation metric agree.
    var rng = SplitMix64(seed: 21)
    for _ in 0..<40 {
        let a = (0..<5).map { _ in Double(rng.nextUnitFloat()) }, b = (0..<5).map { _ in Double(rng.nextUnitFloat()) }
        let engine = PaintTransformerLoss.strokeL1(Tensor(shape: [5], values: a, dtype: .float64),
                                                   Tensor(shape: [5], values: b, dtype: .float64)).item()
        #expect(abs(engine - SyntheticValidation.strokeErrors(a, b).reduce(0, +)) < 1e-12)
    }
}

@Test func strokeL1GradientMatchesFiniteDifferences() {
    // Away from the kinks (|Δ| > 0 and the two forms' costs apart), the gradient is that of the chosen branch.
    let g = Tensor(shape: [2, 5], values: [0.3, 0.6, 0.5, 0.2, 0.9, 0.55, 0.45, 0.25, 0.6, 0.3], dtype: .float64)
    let base: [Double] = [0.41, 0.52, 0.33, 0.47, 0.12, 0.5, 0.38, 0.61, 0.22, 0.83]
    let x = Tensor(shape: [2, 5], values: base, dtype: .float64)
    let grad = gradients(of: PaintTransformerLoss.strokeL1(x, g).sum(), wrt: [x])[0]
    evaluate([grad])
    let analytic = grad.doubles()
    for i in 0..<10 {
        var plus = base, minus = base
        plus[i] += 1e-6
        minus[i] -= 1e-6
        let f = { (v: [Double]) in PaintTransformerLoss.strokeL1(Tensor(shape: [2, 5], values: v, dtype: .float64), g).sum().item() }
        let numeric = (f(plus) - f(minus)) / 2e-6
        #expect(abs(numeric - analytic[i]) < 1e-6, "element \(i): \(numeric) vs \(analytic[i])")
    }
}

@Test func lossWeightsParseAndRefuseBadEntries() throws {
    let w = try PaintTransformerLossWeights.parse("parameters=10, decision=1,objectness=0.5").get()
    #expect(w.parameters == 10 && w.decision == 1 && w.objectness == 0.5 && w.pixel == 10)
    // Round trip through the checkpoint text.
    #expect(try PaintTransformerLossWeights.parse(w.text).get() == w)
    for bad in ["pixel", "pixel=abc", "pixel=nan", "pixel=-1", "colour=1", "pixel=1e9"] {
        if case .success = PaintTransformerLossWeights.parse(bad) { Issue.record("accepted '\(bad)'") }
    }
}
