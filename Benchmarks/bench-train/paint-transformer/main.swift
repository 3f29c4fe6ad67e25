// bench-train (paint-transformer part): one Paint Transformer training iteration — synthesis, forward, losses with
// in-graph Hungarian matching, backward, Adam — timed as the median of several, with peak memory. Matches
// Benchmarks/pytorch/bench_train_paint.py (same network, losses, batch and thread count).
// Until the shared `bench-train` executable (TransGAN) lands, this builds as `bench-train-paint`; the flags are
// the shared ones: `--model paint-transformer --config paper|small --batch 64 --json`.
import ArgumentParser
import Atelier
import Foundation
import PaintTransformer

@main
struct BenchTrainPaint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train-paint", abstract: "Time one Paint Transformer training iteration.")

    @Option(help: "Model to train (only paint-transformer here).") var model = "paint-transformer"
    @Option(help: "paper or small.") var config = "paper"
    @Option(help: "Patches per step.") var batch = 64
    @Option(help: "Timed iterations (median reported).") var reps = 5
    @Option(help: "Untimed warm-up iterations.") var warmup = 2
    @Option(help: "Worker threads (default: ATELIER_THREADS or all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        BLASEnvironment.selectFastKernels()
        if let threads { Threading.setCount(threads) }
        guard model == "paint-transformer" else { throw ValidationError("this build only knows --model paint-transformer") }
        guard let configuration = PaintTransformerConfiguration.named[config] else { throw ValidationError("unknown --config \(config)") }
        let trainer = try PaintTransformerTrainer(settings: TrainerSettings(configuration: configuration, batchSize: batch, seed: 1))

        // Validate: the engine renderer reproduces the host renderer on a synthetic batch, and a step is finite.
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

        for _ in 0..<warmup { _ = try trainer.trainStep() }
        var times: [Double] = [], synthesis: [Double] = [], peaks: [Int] = []
        var last = 0.0
        for _ in 0..<reps {
            var g = SplitMix64(seed: 1)
            let s0 = Date()
            _ = trainer.synthesizer.makeBatch(batchSize: batch, using: &g)
            synthesis.append(Date().timeIntervalSince(s0))
            let t0 = Date()
            last = try trainer.trainStep().losses.total
            times.append(Date().timeIntervalSince(t0))
            peaks.append(ExecutorStatistics.lastPeakBytes)
        }
        let median = times.sorted()[times.count / 2], synth = synthesis.sorted()[synthesis.count / 2]
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let maxRSS = Int(usage.ru_maxrss) * 1024
        let flopsPerPatch = configuration == .paper ? 0.69e9 : 0.075e9  // forward, reference §3 estimate / small estimate
        let gflops = 3 * flopsPerPatch * Double(batch) / median / 1e9
        if json {
            let object: [String: Any] = [
                "model": model, "config": config, "batch": batch, "threads": Threading.count, "blas_core": BLASEnvironment.coreName,
                "parameters": trainer.network.parameterCount, "median_step_seconds": median, "synthesis_seconds": synth,
                "times": times, "executor_peak_bytes": peaks.max() ?? 0, "max_rss_bytes": maxRSS, "approx_gflops": gflops, "loss": last,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("paint-transformer \(configuration) batch \(batch), \(trainer.network.parameterCount) parameters; threads \(Threading.count), OpenBLAS \(BLASEnvironment.coreName)")
            print(String(format: "iteration median %.3f s (synthesis %.3f s), ≈%.0f GFLOP/s; executor peak %.1f MB, max RSS %.1f MB",
                         median, synth, gflops, Double(peaks.max() ?? 0) / 1e6, Double(maxRSS) / 1e6))
        }
    }
}
