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
    /// Adam steps per layer (0: off).
    public var steps: Int
    /// Side of the square the windows are rendered at.
    public var resolution: Int
    /// Adam learning rate, in window units per step for shapes and colour units for colours.
    public var learningRate: Double
    /// Windows per evaluation (bounds memory: ≈ 0.3 MB per window and stroke at 64²).
    public var windowsPerBatch: Int
    let renderer: DifferentiableStrokeRenderer

    public init(steps: Int, resolution: Int = 32, learningRate: Double = 0.01, windowsPerBatch: Int = 256,
                brushes: BrushSet = .oilPaint()) {
        precondition(steps >= 0 && resolution > 0 && learningRate > 0 && windowsPerBatch > 0,
                     "[StrokeRefiner] steps \(steps), resolution \(resolution), learning rate \(learningRate), batch \(windowsPerBatch)")
        self.steps = steps
        self.resolution = resolution
        self.learningRate = learningRate
        self.windowsPerBatch = windowsPerBatch
        renderer = DifferentiableStrokeRenderer(brushes: brushes)
    }

    /// Returns every window's strokes after refinement (same counts and order).
    public func refine(_ windows: [RefinementWindow]) -> [[Stroke]] {
        guard steps > 0 else { return windows.map(\.strokes) }
        var result: [[Stroke]] = []
        result.reserveCapacity(windows.count)
        for start in stride(from: 0, to: windows.count, by: windowsPerBatch) {
            result += refineBatch(Array(windows[start..<min(start + windowsPerBatch, windows.count)]))
        }
        return result
    }

    /// The mean squared error of each batch before and after, for reports and tests.
    public func error(of windows: [RefinementWindow], strokes: [[Stroke]]) -> Double {
        var total = 0.0
        for start in stride(from: 0, to: windows.count, by: windowsPerBatch) {
            let end = min(start + windowsPerBatch, windows.count)
            let batch = Array(windows[start..<end])
            let (shapes, colors, decisions, vertical, n) = pack(batch, strokes: Array(strokes[start..<end]))
            let loss = reconstructionError(batch, shapes: shapes, colors: colors, decisions: decisions, vertical: vertical, n: n)
            evaluate([loss])
            total += loss.item() * Double(batch.count)
        }
        return total / Double(max(windows.count, 1))
    }

    private func pack(_ windows: [RefinementWindow], strokes: [[Stroke]])
        -> (shapes: Tensor, colors: Tensor, decisions: Tensor, vertical: [Bool], n: Int) {
        let n = max(1, strokes.map(\.count).max() ?? 1)
        var shapes = [Float](repeating: 0.5, count: windows.count * n * 5)
        var colors = [Float](repeating: 0, count: windows.count * n * 3)
        var decisions = [Float](repeating: 0, count: windows.count * n)
        var vertical = [Bool](repeating: false, count: windows.count * n)
        for (w, list) in strokes.enumerated() {
            for (i, s) in list.enumerated() {
                let o = w * n + i
                shapes.replaceSubrange((o * 5)..<(o * 5 + 5), with: [s.x, s.y, s.w, s.h, s.theta])
                colors.replaceSubrange((o * 3)..<(o * 3 + 3), with: [s.color.x, s.color.y, s.color.z])
                decisions[o] = 1
                vertical[o] = s.h > s.w
            }
        }
        return (Tensor(shape: [windows.count * n, 5], floats: shapes), Tensor(shape: [windows.count * n, 3], floats: colors),
                Tensor(shape: [windows.count, n], floats: decisions), vertical, n)
    }

    /// Mean squared error of the windows painted with `shapes` [W·n, 5], `colors` [W·n, 3] and 0/1 `decisions` [W, n].
    private func reconstructionError(_ windows: [RefinementWindow], shapes: Tensor, colors: Tensor, decisions: Tensor,
                                     vertical: [Bool], n: Int) -> Tensor {
        let r = resolution, count = windows.count
        let target = Tensor(shape: [count, 3, r, r], floats: windows.flatMap(\.target))
        let canvas = Tensor(shape: [count, 3, r, r], floats: windows.flatMap(\.canvas))
        let (fg, alpha) = renderer.renderWithoutMorphology(shapes: shapes, colors: colors, vertical: vertical, height: r, width: r)
        let painted = DifferentiableStrokeRenderer.composite(canvas: canvas, foreground: fg, alpha: alpha, decisions: decisions)
        return (painted - target).square().mean()
    }

    private func refineBatch(_ windows: [RefinementWindow]) -> [[Stroke]] {
        let (shapes0, colors0, decisions, vertical, n) = pack(windows, strokes: windows.map(\.strokes))
        let shapes = Parameter(shapes0), colors = Parameter(colors0)
        let adam = Adam(parameters: [("shapes", shapes), ("colors", colors)], learningRate: learningRate, betas: (0.9, 0.999))
        // The loss is a mean over the batch: scale it back so each window's step does not shrink with the batch.
        let scale = Double(windows.count)
        for _ in 0..<steps {
            let loss = reconstructionError(windows, shapes: shapes.tensor, colors: colors.tensor, decisions: decisions,
                                           vertical: vertical, n: n) * scale
            let grads = gradients(of: loss, wrt: [shapes.tensor, colors.tensor])
            evaluate(grads)
            guard grads.allSatisfy({ g in g.floats().allSatisfy(\.isFinite) }) else { break }
            adam.step(gradients: grads)
            shapes.assign(Self.clampShapes(shapes.tensor.floats()))
            colors.assign(colors.tensor.floats().map { min(max($0, 0), 1) })
        }
        let s = shapes.tensor.floats(), c = colors.tensor.floats()
        return windows.enumerated().map { w, window in
            window.strokes.indices.map { i in
                let o = w * n + i
                return Stroke(x: s[o * 5], y: s[o * 5 + 1], w: s[o * 5 + 2], h: s[o * 5 + 3], theta: s[o * 5 + 4],
                              color: SIMD3(c[o * 3], c[o * 3 + 1], c[o * 3 + 2]))
            }
        }
    }

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
