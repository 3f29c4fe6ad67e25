// bench-train: one full training iteration of a model, median wall time and process peak RSS.
// `--model transgan`: a D step with the WGAN-GP gradient penalty (double backward) plus a G step, on
// synthetic data (n_critic 1 so every iteration holds both; `--d-step-only` times D steps alone, so the G step's share
// is the difference). `--model paint-transformer`: PaintTransformerBench.swift.
import ArgumentParser
import Atelier
import CommandLineSupport
import COpenBLAS
import Foundation
import TransGAN

@main
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-train", abstract: "Time one training iteration.")

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case transgan
        case paintTransformer = "paint-transformer"
    }

    @Option(help: "Model to time: \(Model.allCases.map(\.rawValue).joined(separator: ", ")).") var model: Model = .transgan
    @Option(help: "Model configuration (transgan: s, tiny, micro, …; paint-transformer: paper, small).") var config = "tiny"
    @Option(help: "Batch size (D batch; the G batch is the same unless --g-batch).") var batch = 32
    @Option(help: "TransGAN: G batch (default: --batch).") var gBatch: Int?
    @Option(help: "Image channels.") var channels = 3
    @Option(help: "Loss (transgan: wgangp-eps, hinge or logistic-r1).") var loss = "wgangp-eps"
    @Option(help: "TransGAN: generator grid-attention window side (with --grid-from).") var gWindow: Int?
    @Option(help: "TransGAN: grid side from which generator stages use window attention.") var gridFrom: Int?
    @Option(help: "TransGAN: generator width per stage, e.g. 256,128,64 (as train-transgan).") var gDims: String?
    @Option(help: "TransGAN: discriminator width.") var dDim: Int?
    @Option(help: "TransGAN: discriminator blocks per scale.") var dDepth: Int?
    @Option(help: "TransGAN: discriminator patch side.") var dPatch: Int?
    @Flag(help: "TransGAN: skip images in the generator.") var imageSkips = false
    @Option(help: "TransGAN: samples of the D batch the gradient penalty uses (default: all).") var gpBatch: Int?
    @Option(help: "TransGAN: gradient penalty every N D steps (default 1); the median then mixes steps with and without it.") var gpEvery = 1
    @Option(help: "TransGAN: DiffAugment policy (default translation,cutout,color).") var augment = "translation,cutout,color"
    @Flag(help: "TransGAN: time D steps alone (no G step after the warm-up).") var dStepOnly = false
    @Option(help: "Matrix products of the networks: fp32, or bf16 (mixed precision: bf16 GEMM inputs, fp32 accumulation and everything else).")
    var precision = MatmulPrecision.fp32
    @Option(help: "Timed iterations.") var iterations = 5
    @Option(help: "Untimed warm-up iterations.") var warmup = 1
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "With ATELIER_PROFILE set: rows of the op table (small copies such as slices fall below the default).") var profileTop = 40

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set
        if let threads { Threading.setCount(try Threading.validatedCount(threads)) }
        // Measured before the model is built, on the threads the iteration will use.
        let ceiling = FMACeiling.measure(threads: Threading.count)
        let timings: [Double]
        var details: [String: String] = [:]
        switch model {
        case .transgan:
            (timings, details) = try benchTransGAN()
        case .paintTransformer:
            (timings, details) = try benchPaintTransformer()
        }
        let sorted = timings.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let rss = peakRSSMegabytes()
        let core = String(cString: openblas_get_corename())
        let spin = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "default"
        if json {
            var fields = [
                "\"model\": \"\(model.rawValue)\"", "\"config\": \"\(config)\"", "\"batch\": \(batch)", "\"threads\": \(Threading.count)",
                "\"precision\": \"\(precision.rawValue)\"",
                "\"blas_core\": \"\(core)\"", "\"blas_thread_timeout\": \"\(spin)\"", "\"iterations\": \(timings.count)",
                String(format: "\"median_ms\": %.1f", median), String(format: "\"min_ms\": %.1f", sorted.first ?? 0),
                String(format: "\"peak_rss_mb\": %.1f", rss), String(format: "\"fma_ceiling_gflops\": %.1f", ceiling.gigaflops),
            ]
            for (k, v) in details.sorted(by: { $0.key < $1.key }) { fields.append("\"\(k)\": \(v)") }
            print("{" + fields.joined(separator: ", ") + "}")
        } else {
            print(ceiling.description)
            print("model \(model.rawValue) config \(config) batch \(batch), \(Threading.count) threads, precision \(precision.rawValue), "
                  + "OpenBLAS core \(core), thread timeout \(spin)")
            for (k, v) in details.sorted(by: { $0.key < $1.key }) { print("  \(k): \(v)") }
            print(String(format: "one iteration: median %.1f ms (min %.1f ms, %d runs); peak RSS %.1f MB", median, sorted.first ?? 0, timings.count, rss))
            if let profiler = ExecutionContext.current.profiler {
                print(profiler.report(top: profileTop))
                // What the op table does not see: building the graph and its gradients, host work between runs.
                let steps = Double(timings.count), mean = timings.reduce(0, +) / steps
                let scheduling = 1000 * profiler.seconds(of: "executor:schedule") / steps
                let ops = 1000 * profiler.totalSeconds / steps - scheduling
                let outside = mean - ops - scheduling
                print(String(format: "per iteration (mean %.1f ms): executor ops %.1f ms (%.1f %%), scheduling %.1f ms (%.1f %%), "
                             + "outside the executor %.1f ms (%.1f %%: graph and gradient building, host work)",
                             mean, ops, 100 * ops / mean, scheduling, 100 * scheduling / mean, outside, 100 * outside / mean))
            }
        }
    }

    func benchTransGAN() throws -> ([Double], [String: String]) {
        var flags = TrainingFlags()
        flags.config = config; flags.gWindow = gWindow; flags.gridFrom = gridFrom
        flags.gDims = try gDims.map(TrainingFlags.parseDims); flags.dDim = dDim; flags.dDepth = dDepth; flags.dPatch = dPatch; flags.imageSkips = imageSkips ? true : nil
        let cfg = try flags.configuration(channels: channels)
        var options = TrainingOptions()
        options.batch = batch
        options.gBatch = gBatch ?? batch
        // A G step runs when step % nCritic == 0: past the last timed step, only the warm-up's step 0 has one.
        options.nCritic = dStepOnly ? TransGANLimits.nCritic.upperBound : 1
        options.gpEvery = gpEvery
        options.augment = augment
        guard let l = GANLoss(rawValue: loss) else { throw ValidationError("unknown loss \(loss)") }
        options.loss = l
        options.gpBatch = gpBatch
        options.precision = precision
        let data = DataSource.synthetic(count: 256, channels: channels, size: cfg.imageSize, seed: 1)
        let trainer = try Trainer(config: cfg, options: options, data: data)
        // Validate before timing: the iteration must produce finite losses.
        for _ in 0..<warmup {
            let s = try trainer.trainStep()
            guard s.dLoss.isFinite, s.gLoss?.isFinite ?? true else { throw ValidationError("non-finite loss in warm-up") }
        }
        ExecutionContext.current.profiler?.reset()
        var times: [Double] = []
        for _ in 0..<iterations {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try trainer.trainStep()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return (times, ["g_params": String(trainer.generator.parameterCount), "d_params": String(trainer.discriminator.parameterCount),
                        "loss": "\"\(loss)\"", "gp_batch": String(gpBatch ?? batch),
                        "g_batch": String(options.gBatch), "d_step_only": String(dStepOnly)])
    }
}

extension MatmulPrecision: ExpressibleByArgument {}

/// VmHWM of /proc/self/status in MB (0 where unavailable).
func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
        return kb / 1024
    }
    return 0
}
