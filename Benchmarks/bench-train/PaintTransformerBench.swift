// bench-train's Paint Transformer case: one training iteration — synthesis, forward, losses with in-graph
// Hungarian matching, backward, Adam — after validating the engine renderer against the host renderer.
// Matches Benchmarks/pytorch/bench_train_paint.py (same network, losses, batch and thread count).
import ArgumentParser
import Atelier
import Foundation
import PaintTransformer

extension BenchTrain {
    func benchPaintTransformer() throws -> ([Double], [String: String]) {
        guard let configuration = PaintTransformerConfiguration.named[config] else {
            throw ValidationError("unknown --config \(config) for paint-transformer (paper, small, tiny)")
        }
        var settings = TrainerSettings(configuration: configuration, batchSize: batch, seed: 1)
        settings.precision = precision
        let trainer = try PaintTransformerTrainer(settings: settings)

        // Validate: the engine renderer reproduces the host renderer on random strokes.
        var rng = SplitMix64(seed: 9)
        let strokes = (0..<16).map { _ in StrokeSynthesizer.randomStroke(using: &rng) }
        let host = TrainingStrokeRenderer()
        let shapes = Tensor(shape: [16, 5], values: strokes.flatMap { [$0.x, $0.y, $0.w, $0.h, $0.theta].map(Double.init) })
        let colors = Tensor(shape: [16, 3], values: strokes.flatMap { [$0.color.x, $0.color.y, $0.color.z].map(Double.init) })
        let fg = trainer.renderer.render(shapes: shapes, colors: colors, height: 32, width: 32).foreground.floats()
        var worst: Float = 0
        for (i, s) in strokes.enumerated() {
            let layer = host.layer(for: s, width: 32, height: 32)
            for k in 0..<(3 * 1024) { worst = max(worst, abs(fg[i * 3072 + k] - layer.foreground[k])) }
        }
        guard worst < 2e-3 else { throw ValidationError("renderer validation failed: difference \(worst)") }

        for _ in 0..<warmup {
            guard try trainer.trainStep().losses.total.isFinite else { throw ValidationError("non-finite loss in warm-up") }
        }
        // The op table covers the timed steps only (not initialisation, validation or the warm-up).
        ExecutionContext.current.profiler?.reset()
        var times: [Double] = [], synthesis: [Double] = []
        var peak = 0
        for _ in 0..<iterations {
            var g = SplitMix64(seed: 1)
            let s0 = DispatchTime.now().uptimeNanoseconds
            _ = trainer.synthesizer.makeBatch(batchSize: batch, using: &g)
            synthesis.append(Double(DispatchTime.now().uptimeNanoseconds - s0) / 1e6)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let step = try trainer.trainStep()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            peak = max(peak, step.executorPeakBytes)
        }
        let synth = synthesis.sorted()[synthesis.count / 2]
        return (times, ["parameters": String(trainer.network.parameterCount), "synthesis_ms": String(format: "%.1f", synth),
                        "executor_peak_mb": String(format: "%.1f", Double(peak) / 1e6)])
    }
}
