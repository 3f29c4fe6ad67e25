import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

// The fused over-compositing op against the engine-op form (itself built from finite-difference-checked ops) and
// against central differences, in Float64 on odd sizes, with soft decisions and one exactly 0.

private struct CompositeInputs {
    let b = 3, n = 5, h = 7, w = 9
    var canvas: [Double], foreground: [Double], alpha: [Double], decisions: [Double], cotangent: [Double]

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func draw(_ count: Int) -> [Double] { (0..<count).map { _ in Double(rng.nextUnitFloat()) } }
        let (b, n, plane) = (3, 5, 7 * 9)
        canvas = draw(b * 3 * plane)
        foreground = draw(b * n * 3 * plane)
        alpha = draw(b * n * plane)
        decisions = draw(b * n)
        decisions[4] = 0 // a stroke that is not drawn still gets a decision gradient
        cotangent = draw(b * 3 * plane).map { $0 - 0.5 }
    }

    func tensors() -> [Tensor] {
        [Tensor(shape: [b, 3, h, w], values: canvas, dtype: .float64),
         Tensor(shape: [b * n, 3, h, w], values: foreground, dtype: .float64),
         Tensor(shape: [b * n, 1, h, w], values: alpha, dtype: .float64),
         Tensor(shape: [b, n], values: decisions, dtype: .float64)]
    }

    func loss(_ t: [Tensor], fused: Bool) -> Tensor {
        let out = fused
            ? DifferentiableStrokeRenderer.composite(canvas: t[0], foreground: t[1], alpha: t[2], decisions: t[3])
            : DifferentiableStrokeRenderer.compositeWithEngineOps(canvas: t[0], foreground: t[1], alpha: t[2], decisions: t[3])
        return (out * Tensor(shape: out.shape, values: cotangent, dtype: .float64)).sum()
    }
}

@Test func fusedCompositeMatchesEngineOps() {
    let inputs = CompositeInputs(seed: 5)
    let t = inputs.tensors()
    let fused = inputs.loss(t, fused: true), plain = inputs.loss(t, fused: false)
    let fusedGrads = gradients(of: fused, wrt: t), plainGrads = gradients(of: plain, wrt: t)
    evaluate([fused, plain] + fusedGrads + plainGrads)
    #expect(abs(fused.item() - plain.item()) < 1e-12)
    for k in 0..<4 {
        let worst = maxAbsDifference(fusedGrads[k].doubles(), plainGrads[k].doubles())
        #expect(worst < 1e-12, "gradient of input \(k): max difference \(worst)")
    }
    // Float32 runs the same loops: agreement to float32 rounding.
    let t32 = t.map { Tensor(shape: $0.shape, values: $0.doubles(), dtype: .float32) }
    let out32 = DifferentiableStrokeRenderer.composite(canvas: t32[0], foreground: t32[1], alpha: t32[2], decisions: t32[3])
    let out64 = DifferentiableStrokeRenderer.composite(canvas: t[0], foreground: t[1], alpha: t[2], decisions: t[3])
    let worst32 = zip(out32.floats(), out64.doubles()).map { abs(Double($0) - $1) }.max() ?? 1
    #expect(worst32 < 1e-6)
}

@Test func fusedCompositeGradientsMatchFiniteDifferences() {
    let inputs = CompositeInputs(seed: 8)
    let t = inputs.tensors()
    let grads = gradients(of: inputs.loss(t, fused: true), wrt: t)
    evaluate(grads)
    // The output is polynomial in every input (degree ≤ N in α and d), so central differences with eps = 1e-6
    // have truncation error ~eps² and rounding error ~1e-16/eps: 1e-7 absolute is ample.
    let eps = 1e-6
    for k in 0..<4 {
        let analytic = grads[k].doubles()
        let base = t[k].doubles()
        // Every fifth element of each input (all of them for the 15 decisions).
        for e in stride(from: 0, to: base.count, by: k == 3 ? 1 : 5) {
            func value(_ delta: Double) -> Double {
                var moved = t
                var v = base
                v[e] += delta
                moved[k] = Tensor(shape: t[k].shape, values: v, dtype: .float64)
                return inputs.loss(moved, fused: true).item()
            }
            let numeric = (value(eps) - value(-eps)) / (2 * eps)
            #expect(abs(numeric - analytic[e]) < 1e-7, "input \(k)[\(e)]: analytic \(analytic[e]), numeric \(numeric)")
        }
    }
}

/// Second order through the composite form: ∇ₜ⟨∇ₜL, c₂⟩ against central differences of ⟨∇ₜL, c₂⟩.
@Test func fusedCompositeSecondOrderMatchesFiniteDifferences() {
    let inputs = CompositeInputs(seed: 11)
    let t = inputs.tensors()
    var rng = SplitMix64(seed: 3)
    let directions = t.map { Tensor(shape: $0.shape, values: (0..<$0.count).map { _ in Double(rng.nextUnitFloat()) - 0.5 }, dtype: .float64) }
    func h(_ x: [Tensor]) -> Tensor {
        let g = gradients(of: inputs.loss(x, fused: true), wrt: x)
        return zip(g, directions).map { ($0 * $1).sum() }.reduce(Tensor(scalar: 0, dtype: .float64), +)
    }
    let grads = gradients(of: h(t), wrt: t)
    evaluate(grads)
    let eps = 1e-6
    for k in 0..<4 {
        let analytic = grads[k].doubles(), base = t[k].doubles()
        for e in stride(from: 0, to: base.count, by: k == 3 ? 1 : 7) {
            func value(_ delta: Double) -> Double {
                var moved = t, v = base
                v[e] += delta
                moved[k] = Tensor(shape: t[k].shape, values: v, dtype: .float64)
                return h(moved).item()
            }
            let numeric = (value(eps) - value(-eps)) / (2 * eps)
            #expect(abs(numeric - analytic[e]) < 1e-6, "input \(k)[\(e)]: analytic \(analytic[e]), numeric \(numeric)")
        }
    }
}
