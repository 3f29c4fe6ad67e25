import Testing
import Atelier
import CKernels
@testable import PaintTransformer
import TestSupport

// The fused refinement loss against its plain reference: the differentiable renderer, the compositing op and a
// mean squared error from engine ops, differentiated by the engine, in Float64 (the kernel is Float32). Odd sizes
// everywhere (window 13², brushes 19×23 and 17×15 with zero texels, so masks have edges), strokes that leave the
// window, cover it, or are tiny, windows with padding strokes, both thread paths of the window loop, and every
// SIMD level of the C kernel (forced; a level the CPU lacks is clamped to the best it has, so it runs twice),
// which must agree bitwise.

private struct RefinementCase {
    let windows = 5, n = 4, r = 13
    let brushes: BrushSet
    var targets: [Float], canvases: [Float]
    var strokes: RefinementLossKernel.Strokes

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func unit() -> Float { rng.nextUnitFloat() }
        func texture(_ w: Int, _ h: Int) -> Brush {
            let pixels = (0..<(w * h)).map { _ -> Float in let v = unit(); return v < 0.25 ? 0 : v }
            return try! Brush(width: w, height: h, pixels: pixels)
        }
        brushes = BrushSet(vertical: texture(19, 23), horizontal: texture(17, 15))
        let (windows, n, plane) = (5, 4, 13 * 13)
        targets = (0..<(windows * 3 * plane)).map { _ in unit() }
        canvases = (0..<(windows * 3 * plane)).map { _ in unit() }
        var shapes: [Float] = [], colors: [Float] = [], drawn: [Bool] = [], vertical: [Bool] = []
        for w in 0..<windows {
            for i in 0..<n {
                var s: [Float] = [unit() * 1.2 - 0.1, unit() * 1.2 - 0.1, 0.1 + unit() * 0.7, 0.1 + unit() * 0.7, unit()]
                if w == 1 && i == 0 { s = [0.5, 0.5, 1, 1, 0.03] }          // covers the window, crosses every edge
                if w == 1 && i == 1 { s = [0.31, 0.62, 0.04, 0.06, 0.4] }   // a few pixels
                shapes += s
                // Up to 1.5, so bright texels clip at 1 as the rasterizer clips (the test checks that some do).
                colors += [0.1 + unit() * 1.4, 0.1 + unit() * 1.4, 0.1 + unit() * 1.4]
                drawn.append(!(w == 3 && i >= 2))                           // window 3 has two strokes
                vertical.append(s[3] > s[2])
            }
        }
        strokes = .init(shapes: shapes, colors: colors, drawn: drawn, vertical: vertical, strokesPerWindow: n)
    }

    /// Loss and gradients from engine ops in Float64.
    /// Also returns the share of painted foreground values (α > 0) that the clip at 1 cuts.
    func reference() -> (loss: Double, shapes: [Double], colors: [Double], clippedShare: Double) {
        let renderer = DifferentiableStrokeRenderer(brushes: brushes)
        let shapes = Tensor(shape: [windows * n, 5], values: strokes.shapes.map(Double.init), dtype: .float64)
        let colors = Tensor(shape: [windows * n, 3], values: strokes.colors.map(Double.init), dtype: .float64)
        let decisions = Tensor(shape: [windows, n], values: strokes.drawn.map { $0 ? 1 : 0 }, dtype: .float64)
        let target = Tensor(shape: [windows, 3, r, r], values: targets.map(Double.init), dtype: .float64)
        let canvas = Tensor(shape: [windows, 3, r, r], values: canvases.map(Double.init), dtype: .float64)
        let (fg, alpha) = renderer.render(shapes: shapes, colors: colors, vertical: strokes.vertical, height: r, width: r)
        let painted = DifferentiableStrokeRenderer.composite(canvas: canvas, foreground: fg.minimum(1), alpha: alpha, decisions: decisions)
        let loss = (painted - target).square().mean() * Double(windows)
        let grads = gradients(of: loss, wrt: [shapes, colors])
        evaluate([loss, fg, alpha] + grads)
        let a = alpha.doubles(), f = fg.doubles(), plane = r * r
        var covered = 0, clipped = 0
        for (e, value) in f.enumerated() where a[(e / (3 * plane)) * plane + e % plane] > 0 {
            covered += 1
            if value > 1 { clipped += 1 }
        }
        return (loss.item(), grads[0].doubles(), grads[1].doubles(), Double(clipped) / Double(max(covered, 1)))
    }
}

@Suite struct RefinementLossKernelLevels {
    @Test(arguments: [1, 2])
    func fusedRefinementLossMatchesEngineOps(threads: Int) { ExecutionContext.current.with(threads: threads).run {
        for seed: UInt64 in [3, 11] {
            let c = RefinementCase(seed: seed)
            let kernel = RefinementLossKernel(brushes: c.brushes)
            let expected = c.reference()
            #expect(expected.clippedShare > 0.01, "only \(expected.clippedShare) of the painted values clip: the clip is not exercised")
            var portable: RefinementLossKernel.Result?
            for level: Int32 in [0, 1, 2] {
                let fused = withSIMDLevel(level) {
                    kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r)
                }
                // Every level computes the same operations in the same order (no FMA contraction, sums in pixel
                // order), so paintings do not depend on the CPU: bitwise equal.
                if let p = portable {
                    #expect(fused.windowLosses == p.windowLosses && fused.shapeGradients == p.shapeGradients
                            && fused.colorGradients == p.colorGradients && fused.removalChanges == p.removalChanges,
                            "level \(level) differs from the portable path")
                } else {
                    portable = fused
                }
                // Float32 rounding of sums over ≤ 3·13² terms: relative 1e-5 on the loss; gradients get 1e-3 of their
                // largest magnitude (bilinear slopes multiply texel differences by half the texture size).
                #expect(abs(fused.loss - expected.loss) <= 1e-5 * expected.loss, "loss \(fused.loss) vs \(expected.loss), level \(level)")
                for (name, got, want) in [("shapes", fused.shapeGradients, expected.shapes), ("colors", fused.colorGradients, expected.colors)] {
                    let scale = want.map(abs).max() ?? 0
                    #expect(scale > 0, "\(name) gradients are all zero")
                    let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(worst <= 1e-3 * scale, "\(name): worst difference \(worst) against scale \(scale), seed \(seed), level \(level)")
                }
                // Padding strokes get no gradient.
                for i in 2..<4 {
                    let k = 3 * c.n + i
                    #expect(fused.shapeGradients[(k * 5)..<(k * 5 + 5)].allSatisfy { $0 == 0 })
                    #expect(fused.colorGradients[(k * 3)..<(k * 3 + 3)].allSatisfy { $0 == 0 })
                }
            }
        }
    } }

    /// `removalChanges` against brute force: the window's loss evaluated again with the stroke left out. The cases
    /// have padding strokes (window 3), colours up to 1.5 that clip at white (checked by the test above), strokes
    /// crossing the window's edges, one stroke moved entirely outside the window (window 2, stroke 3), and strokes
    /// that help and strokes that harm.
    @Test func removalChangesMatchLeaveOneOut() {
        var signs: Set<Bool> = []
        for seed: UInt64 in [3, 11] {
            var c = RefinementCase(seed: seed)
            c.strokes.shapes.replaceSubrange((2 * c.n + 3) * 5..<(2 * c.n + 4) * 5, with: [1.7, 0.4, 0.2, 0.3, 0.25])
            let kernel = RefinementLossKernel(brushes: c.brushes)
            for level: Int32 in [0, 1, 2] {
                withSIMDLevel(level) {
                    let full = kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r)
                    for change in full.removalChanges where change != 0 { signs.insert(change > 0) }
                    for w in 0..<c.windows {
                        for i in 0..<c.n {
                            let k = w * c.n + i
                            guard c.strokes.drawn[k] else {
                                #expect(full.removalChanges[k] == 0, "padding stroke \(k) has a removal change")
                                continue
                            }
                            var without = c.strokes
                            without.drawn[k] = false
                            let left = kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: without, resolution: c.r)
                            let brute = left.windowLosses[w] - full.windowLosses[w]
                            // Both sides are Float32 sums over the window's 3·13² squared errors (losses ≈ 0.15): rounding
                            // is ~1e-7 absolute, far below the changes tested (the smallest non-zero ones here are ~1e-5).
                            #expect(abs(Double(full.removalChanges[k]) - brute) <= 1e-6 + 1e-4 * abs(brute),
                                    "stroke \(k): removal change \(full.removalChanges[k]) vs leave-one-out \(brute), level \(level)")
                            // Other windows do not change.
                            #expect(left.windowLosses.indices.allSatisfy { $0 == w || left.windowLosses[$0] == full.windowLosses[$0] })
                        }
                    }
                    let outside = 2 * c.n + 3
                    #expect(full.removalChanges[outside] == 0 && full.shapeGradients[(outside * 5)..<(outside * 5 + 5)].allSatisfy { $0 == 0 })
                }
            }
        }
        #expect(signs == [true, false], "removal changes of one sign only: the cases do not exercise both")
    }
}

extension RefinementLossKernelLevels {
    /// The least-squares colour fit against the same formula evaluated on the engine-op renderer's coverage and
    /// intensity in Float64; the levels bitwise equal to each other, in any thread split, with a reused workspace.
    @Test func fittedColoursMatchEngineRenderer() {
        for seed: UInt64 in [3, 11] {
            let c = RefinementCase(seed: seed)
            let ceiling: Float = 1.2
            let renderer = DifferentiableStrokeRenderer(brushes: c.brushes)
            let (fg, alpha) = renderer.render(
                shapes: Tensor(shape: [c.windows * c.n, 5], values: c.strokes.shapes.map(Double.init), dtype: .float64),
                colors: Tensor.ones([c.windows * c.n, 1], dtype: .float64), vertical: c.strokes.vertical, height: c.r, width: c.r)
            evaluate([fg, alpha])
            let b = fg.doubles(), a = alpha.doubles(), plane = c.r * c.r
            // Reference: c = Σ T·α·b·(target − old·(1 − α)) / Σ T·(α·b)², walking each window's strokes from the last.
            var expected: [Double?] = Array(repeating: nil, count: c.windows * c.n * 3)
            var fitted = 0
            for w in 0..<c.windows {
                var visible = [Double](repeating: 1, count: plane)
                for i in (0..<c.n).reversed() where c.strokes.drawn[w * c.n + i] {
                    let o = w * c.n + i
                    var numerator = [0.0, 0.0, 0.0], denominator = 0.0
                    for k in 0..<plane {
                        let coverage = a[o * plane + k], ab = coverage * b[o * plane + k], v = visible[k]
                        visible[k] = v * (1 - coverage)
                        guard ab > 0, v > 0 else { continue }
                        for ch in 0..<3 {
                            let q = (w * 3 + ch) * plane + k
                            numerator[ch] += v * ab * (Double(c.targets[q]) - Double(c.canvases[q]) * (1 - coverage))
                        }
                        denominator += v * ab * ab
                    }
                    // Near the 1e-6 threshold Float32 sums may decide either way: those strokes are not compared.
                    if denominator > 1e-5 {
                        fitted += 1
                        for ch in 0..<3 { expected[o * 3 + ch] = min(max(numerator[ch] / denominator, 0), Double(ceiling)) }
                    } else if denominator < 1e-7 {
                        for ch in 0..<3 { expected[o * 3 + ch] = Double(c.strokes.colors[o * 3 + ch]) }
                    }
                }
            }
            #expect(fitted >= c.windows * c.n / 2, "only \(fitted) strokes fitted")
            let kernel = RefinementLossKernel(brushes: c.brushes)
            var portable: [Float]?
            for level: Int32 in [0, 1, 2] {
                let got = withSIMDLevel(level) {
                    kernel.fittedColors(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r,
                                        ceiling: ceiling)
                }
                if let p = portable { #expect(got == p, "level \(level) differs from the portable path") } else { portable = got }
                for (k, want) in expected.enumerated() {
                    guard let want else { continue }
                    // Float32 sums of ≤ 13² terms against Float64: relative 1e-4 of the colour scale.
                    #expect(abs(Double(got[k]) - want) <= 1e-4 * Double(ceiling), "colour \(k): \(got[k]) vs \(want), level \(level)")
                }
                // Strokes not drawn keep their colours.
                for i in 2..<4 {
                    let k = 3 * c.n + i
                    #expect(got[(k * 3)..<(k * 3 + 3)] == c.strokes.colors[(k * 3)..<(k * 3 + 3)])
                }
            }
            let workspace = RefinementLossKernel.Workspace(strokesPerWindow: c.n, resolution: c.r, threads: 3)
            for _ in 0..<2 {
                #expect(kernel.fittedColors(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r,
                                            ceiling: ceiling, workspace: workspace) == portable)
            }
        }
    }
}

@Test func fusedRefinementLossDoesNotDependOnThreadCount() {
    let c = RefinementCase(seed: 7)
    let kernel = RefinementLossKernel(brushes: c.brushes)
    let one = ExecutionContext.current.with(threads: 1).run {
        kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r)
    }
    let two = ExecutionContext.current.with(threads: 2).run {
        kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r)
    }
    #expect(one.loss == two.loss && one.shapeGradients == two.shapeGradients && one.colorGradients == two.colorGradients
            && one.windowLosses == two.windowLosses && one.removalChanges == two.removalChanges)
    // A reused workspace (3 slots for 5 windows, used twice) leaves nothing behind that changes a result.
    let workspace = RefinementLossKernel.Workspace(strokesPerWindow: c.n, resolution: c.r, threads: 3)
    for _ in 0..<2 {
        let reused = kernel.evaluate(targets: c.targets, canvases: c.canvases, strokes: c.strokes, resolution: c.r, workspace: workspace)
        #expect(reused.loss == one.loss && reused.shapeGradients == one.shapeGradients && reused.colorGradients == one.colorGradients
                && reused.removalChanges == one.removalChanges)
    }
}
