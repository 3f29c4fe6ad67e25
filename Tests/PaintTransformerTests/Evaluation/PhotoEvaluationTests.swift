import Foundation
import Testing
@testable import PaintTransformer

// The per-query spread statistic.

private func stroke(_ x: Float, _ y: Float, kept: Bool = true) -> PredictedStroke {
    PredictedStroke(x: x, y: y, w: 0.3, h: 0.3, theta: 0, decision: kept ? 1 : -1)
}

@Test func querySpreadIsZeroForATemplateAndMeasuresMovement() {
    // 2 queries × 4 patches. Query 0 never moves; query 1 takes x ∈ {0.2, 0.6} (σ 0.2) and y ∈ {0.3, 0.5} (σ 0.1).
    var strokes: [PredictedStroke] = []
    for p in 0..<4 {
        strokes.append(stroke(0.4, 0.4))
        strokes.append(stroke(p % 2 == 0 ? 0.2 : 0.6, p < 2 ? 0.3 : 0.5))
    }
    let spread = QuerySpread(strokes, strokesPerPatch: 2)
    #expect(spread.perQuery[0] == 0)
    #expect(abs(spread.perQuery[1] - 0.15) < 1e-6)
    #expect(abs(spread.mean - 0.075) < 1e-6)
    #expect(spread.keepRate == [1, 1])
}

@Test func querySpreadIgnoresDroppedStrokes() {
    let strokes = [stroke(0.1, 0.1), stroke(0.9, 0.9, kept: false), stroke(0.1, 0.1), stroke(0.2, 0.2, kept: false)]
    let spread = QuerySpread(strokes, strokesPerPatch: 2)
    #expect(spread.keepRate == [1, 0])
    #expect(spread.perQuery == [0, 0] && spread.mean == 0)
}
