import Foundation
import Atelier

// Stroke refinement (beyond the paper): after a layer's prediction, a few Adam steps on the kept strokes'
// parameters (x, y, w, h, θ and colour) against the target, through the differentiable renderer, batched over all
// render windows of the layer. The network gives a good start; the descent fixes what it could not see (exact
// colours, small offsets, sizes), the way optimisation-based painters work, at a fraction of their cost.
//
// Each window is refined on its own against the canvas as it was before the layer (strokes of neighbouring windows
// drawn in the same layer are not seen), at `resolution`² pixels: the window's layer-resolution pixels box-averaged
// down when the layer window is larger.

/// One render window to refine: its target, its canvas before the layer (both [3, R, R] planar) and its strokes.
public struct RefinementWindow: Sendable {
    public var target: [Float]
    public var canvas: [Float]
    /// The window's kept strokes in window-normalised units, in drawing order.
    public var strokes: [Stroke]
    public init(target: [Float], canvas: [Float], strokes: [Stroke]) {
        self.target = target
        self.canvas = canvas
        self.strokes = strokes
    }
}

/// Refines strokes by gradient descent on the rendered window error.
public struct StrokeRefiner: Sendable {
    /// Adam steps per layer (0: none).
    public var steps: Int
    /// Start from least-squares colours instead of the colours sampled at the stroke centres.
    public var fitColors: Bool
    /// Side of the square the windows are rendered at.
    public var resolution: Int
    /// Adam learning rates: shapes in window units per step, colours in colour units. The colour error is smooth;
    /// the shape error is rough (textured brushes), so shapes take smaller steps.
    public var shapeLearningRate: Double
    public var colorLearningRate: Double
    /// Windows per evaluation (bounds memory: ≈ 0.3 MB per window and stroke at 64²).
    public var windowsPerBatch: Int
    /// Leave out every stroke whose removal would not raise its window's error (it does harm, or later strokes
    /// hide it): halfway through the steps and after the last. Predicted strokes cost paint where they hurt: on
    /// the held-out photos 40 % of them did not help after refinement; leaving them out raised the mean PSNR by
    /// 0.19 dB with 43 % fewer strokes, and the second half of the descent got cheaper.
    public var prunesStrokes: Bool
    /// Colours are kept in [0, colorCeiling] (`BrushSet.colorCeiling`: above 1, so textured strokes reach white).
    /// The loss clips colour × intensity at 1 as the rasterizer does, so a bright colour is not charged for the
    /// texels the canvas clips.
    public let colorCeiling: Float
    let renderer: DifferentiableStrokeRenderer
    let lossKernel: RefinementLossKernel

    public init(steps: Int, resolution: Int = 32, shapeLearningRate: Double = 0.01, colorLearningRate: Double = 0.05,
                windowsPerBatch: Int = 256, fitColors: Bool = true, prunesStrokes: Bool = false,
                brushes: BrushSet = .oilPaint()) {
        precondition(steps >= 0 && resolution > 0 && shapeLearningRate >= 0 && colorLearningRate >= 0 && windowsPerBatch > 0,
                     "[StrokeRefiner] steps \(steps), resolution \(resolution), learning rates \(shapeLearningRate), \(colorLearningRate), batch \(windowsPerBatch)")
        self.steps = steps
        self.fitColors = fitColors
        self.resolution = resolution
        self.shapeLearningRate = shapeLearningRate
        self.colorLearningRate = colorLearningRate
        self.windowsPerBatch = windowsPerBatch
        self.prunesStrokes = prunesStrokes
        renderer = DifferentiableStrokeRenderer(brushes: brushes)
        lossKernel = RefinementLossKernel(brushes: brushes)
        colorCeiling = brushes.colorCeiling
    }

    /// Returns every window's strokes after refinement (same counts and order; nil for a stroke pruned because it
    /// did not lower its window's error): colours fitted by least squares when `fitColors`, then `steps` Adam steps
    /// on shapes and colours.
    public func refine(_ windows: [RefinementWindow]) -> [[Stroke?]] {
        var result: [[Stroke?]] = []
        result.reserveCapacity(windows.count)
        guard steps > 0 || prunesStrokes || fitColors else { return windows.map { $0.strokes.map { Optional($0) } } }
        for start in stride(from: 0, to: windows.count, by: windowsPerBatch) {
            let batch = Array(windows[start..<min(start + windowsPerBatch, windows.count)])
            var packed = pack(batch, strokes: batch.map(\.strokes))
            let targets = batch.flatMap(\.target), canvases = batch.flatMap(\.canvas)
            let workspace = RefinementLossKernel.Workspace(strokesPerWindow: packed.strokesPerWindow, resolution: resolution)
            if fitColors {
                packed.colors = lossKernel.fittedColors(targets: targets, canvases: canvases, strokes: packed,
                                                        resolution: resolution, ceiling: colorCeiling, workspace: workspace)
            }
            if steps > 0 || prunesStrokes {
                refineBatch(&packed, targets: targets, canvases: canvases, workspace: workspace)
            }
            result += unpack(packed, counts: batch.map(\.strokes.count))
        }
        return result
    }

    /// The mean squared error of each batch before and after, for reports and tests: the engine-op renderer, not
    /// the kernel that refinement uses, so it checks the kernel too.
    public func error(of windows: [RefinementWindow], strokes: [[Stroke]]) -> Double {
        var total = 0.0
        for start in stride(from: 0, to: windows.count, by: windowsPerBatch) {
            let end = min(start + windowsPerBatch, windows.count)
            let batch = Array(windows[start..<end])
            let loss = reconstructionError(batch, strokes: pack(batch, strokes: Array(strokes[start..<end])))
            evaluate([loss])
            total += loss.item() * Double(batch.count)
        }
        return total / Double(max(windows.count, 1))
    }

    /// Stroke i of window w at w·n + i, n the most strokes in a window; the others padded with undrawn strokes.
    private func pack(_ windows: [RefinementWindow], strokes: [[Stroke]]) -> RefinementLossKernel.Strokes {
        let n = max(1, strokes.map(\.count).max() ?? 1)
        var shapes = [Float](repeating: 0.5, count: windows.count * n * 5)
        var colors = [Float](repeating: 0, count: windows.count * n * 3)
        var drawn = [Bool](repeating: false, count: windows.count * n)
        var vertical = [Bool](repeating: false, count: windows.count * n)
        for (w, list) in strokes.enumerated() {
            for (i, s) in list.enumerated() {
                let o = w * n + i
                shapes.replaceSubrange((o * 5)..<(o * 5 + 5), with: [s.x, s.y, s.w, s.h, s.theta])
                colors.replaceSubrange((o * 3)..<(o * 3 + 3), with: [s.color.x, s.color.y, s.color.z])
                drawn[o] = true
                vertical[o] = s.h > s.w
            }
        }
        return RefinementLossKernel.Strokes(shapes: shapes, colors: colors, drawn: drawn, vertical: vertical,
                                            strokesPerWindow: n)
    }

    /// Each window's first `counts[w]` strokes, nil where pruned.
    private func unpack(_ packed: RefinementLossKernel.Strokes, counts: [Int]) -> [[Stroke?]] {
        let n = packed.strokesPerWindow, s = packed.shapes, c = packed.colors
        return counts.enumerated().map { w, count in
            (0..<count).map { i -> Stroke? in
                let o = w * n + i
                guard packed.drawn[o] else { return nil }
                return Stroke(x: s[o * 5], y: s[o * 5 + 1], w: s[o * 5 + 2], h: s[o * 5 + 3], theta: s[o * 5 + 4],
                              color: SIMD3(c[o * 3], c[o * 3 + 1], c[o * 3 + 2]))
            }
        }
    }

    /// Mean squared error of the windows painted with the packed strokes, through the engine-op renderer.
    private func reconstructionError(_ windows: [RefinementWindow], strokes: RefinementLossKernel.Strokes) -> Tensor {
        let r = resolution, count = windows.count, n = strokes.strokesPerWindow
        let target = Tensor(shape: [count, 3, r, r], floats: windows.flatMap(\.target))
        let canvas = Tensor(shape: [count, 3, r, r], floats: windows.flatMap(\.canvas))
        let (fg, alpha) = renderer.render(shapes: Tensor(shape: [count * n, 5], floats: strokes.shapes),
                                          colors: Tensor(shape: [count * n, 3], floats: strokes.colors),
                                          vertical: strokes.vertical, height: r, width: r)
        let decisions = Tensor(shape: [count, n], floats: strokes.drawn.map { $0 ? 1 : 0 })
        let painted = DifferentiableStrokeRenderer.composite(canvas: canvas, foreground: fg.minimum(1), alpha: alpha, decisions: decisions)
        return (painted - target).square().mean()
    }

    /// `steps` Adam steps on the packed strokes' shapes and colours, pruning halfway and at the end.
    private func refineBatch(_ packed: inout RefinementLossKernel.Strokes, targets: [Float], canvases: [Float],
                             workspace: RefinementLossKernel.Workspace) {
        let shapes0 = Tensor(shape: [packed.drawn.count, 5], floats: packed.shapes)
        let colors0 = Tensor(shape: [packed.drawn.count, 3], floats: packed.colors)
        let shapes = Parameter(shapes0), colors = Parameter(colors0)
        let shapeAdam = Adam(parameters: [("shapes", shapes)], learningRate: shapeLearningRate, betas: (0.9, 0.999))
        let colorAdam = Adam(parameters: [("colors", colors)], learningRate: colorLearningRate, betas: (0.9, 0.999))
        // Halfway, the strokes that do not help are left out, so the second half refines (and pays for) only
        // the useful ones; pruning before any step lost 0.2 dB on the held-out photos (refinement rescues some).
        let pruneStep = prunesStrokes && steps >= 2 ? steps / 2 : -1
        func prune(_ changes: [Float]) {
            for o in changes.indices where packed.drawn[o] && changes[o] <= 0 { packed.drawn[o] = false }
        }
        for step in 0..<steps {
            // Cosine decay to zero: large early moves, then settling instead of Adam's constant-size jitter.
            let decay = 0.5 * (1 + cos(Double.pi * Double(step) / Double(steps)))
            shapeAdam.learningRate = shapeLearningRate * decay
            colorAdam.learningRate = colorLearningRate * decay
            // The summed per-window loss, so each window's step does not shrink with the batch.
            let result = lossKernel.evaluate(targets: targets, canvases: canvases, strokes: packed, resolution: resolution,
                                             workspace: workspace)
            guard result.loss.isFinite, result.shapeGradients.allSatisfy(\.isFinite), result.colorGradients.allSatisfy(\.isFinite)
            else { break }
            if step == pruneStep { prune(result.removalChanges) }
            shapeAdam.step(gradients: [Tensor(shape: shapes0.shape, floats: result.shapeGradients)])
            colorAdam.step(gradients: [Tensor(shape: colors0.shape, floats: result.colorGradients)])
            packed.shapes = Self.clampShapes(shapes.tensor.floats())
            packed.colors = colors.tensor.floats().map(clampedColor)
            shapes.assign(packed.shapes)
            colors.assign(packed.colors)
        }
        if prunesStrokes {
            prune(lossKernel.evaluate(targets: targets, canvases: canvases, strokes: packed, resolution: resolution,
                                      workspace: workspace).removalChanges)
        }
    }

    private func clampedColor(_ value: Float) -> Float { min(max(value, 0), colorCeiling) }

    /// Keeps centres inside the window and sizes within (1/64, 1] of it, so no stroke vanishes or degenerates.
    static func clampShapes(_ values: [Float]) -> [Float] {
        var v = values
        for o in stride(from: 0, to: v.count, by: 5) {
            v[o] = min(max(v[o], 0), 1)
            v[o + 1] = min(max(v[o + 1], 0), 1)
            v[o + 2] = min(max(v[o + 2], 1 / 64), 1)
            v[o + 3] = min(max(v[o + 3], 1 / 64), 1)
        }
        return v
    }
}
