// train-transgan: trains TransGAN from the command line. Progress on stderr, samples/losses/checkpoints in
// --out; Ctrl-C saves a checkpoint and exits; --resume continues bit-identically. Errors: one line, exit 1.
import ArgumentParser
import Atelier
import Foundation
import TransGAN

/// Set by the SIGINT handler; the loop checks it between steps.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

@main
struct TrainTransGAN: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-transgan", abstract: "Train TransGAN (WGAN-GP, hinge or logistic with R1) on a CPU.")

    @Option(help: "Model configuration: xl, s, m, l, s-lite, tiny, micro, grid64.") var config = "tiny"
    @Option(help: "Override: generator grid-attention window side.") var gWindow: Int?
    @Option(help: "Override: grid side from which generator stages use window attention (e.g. 32 to window the 32×32 stage).") var gridFrom: Int?
    @Option(help: "fashion-mnist | cifar10:PATH | folder:PATH | synthetic") var data = "fashion-mnist"
    @Option(help: "Directory of the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist).") var dataDir: String?
    @Option(help: "Total D steps (the run stops when it reaches this step).") var steps = 1000
    @Option(help: "D batch size.") var batch = 32
    @Option(help: "G batch size (default: 2 × batch).") var gBatch: Int?
    @Option(help: "D steps per G step.") var nCritic = 4
    @Option(help: "wgangp-eps (official) | hinge | logistic-r1 (non-saturating with an R1 penalty, StyleGAN2's)") var loss = "wgangp-eps"
    @Option(help: "R1 weight γ for --loss logistic-r1 (penalty (γ/2)·E‖∇D(x_real)‖²).") var r1Gamma = 0.1
    @Option(help: "Learning rate of both networks.") var lr = 1e-4
    @Option(help: "Generator learning rate (default: --lr).") var gLr: Double?
    @Option(help: "Discriminator learning rate (default: --lr; e.g. 4 × the generator's for a two-time-scale update).") var dLr: Double?
    @Option(help: "Compute the gradient penalty (or R1) every N D steps with N times its weight (1: every step, official).") var gpEvery = 1
    @Option(help: "Compute the gradient penalty on the first N samples of each D batch (default: all, official).") var gpBatch: Int?
    @Option(help: "EMA half-life in thousands of images.") var emaKimg = 500.0
    @Option(help: "EMA warm-up ratio (0: fixed --ema-beta).") var emaWarmup = 0.1
    @Option(help: "Fixed EMA beta when --ema-warmup is 0.") var emaBeta = 0.9999
    @Option(help: "DiffAugment policy.") var augment = "translation,cutout,color"
    @Option(help: "Random seed.") var seed: UInt64 = 12345
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Output directory.") var out = "runs/transgan"
    @Option(help: "Write a sample grid every N steps (0: never).") var sampleEvery = 200
    @Option(help: "Save the EMA generator alone (gen_ema_STEP.safetensors, for Fréchet curves) every N steps (0: never).") var snapshotEvery = 0
    @Option(help: "Write a checkpoint every N steps (0: only at the end).") var checkpointEvery = 500
    @Option(help: "Print the Fréchet distance every N steps (0: never; Fashion-MNIST only).") var evalEvery = 0
    @Option(help: "Samples used for each Fréchet distance.") var evalSamples = 1000
    @Option(help: "Directory caching the evaluation classifier and real statistics.") var evalCache = "runs/transgan-eval-cache"
    @Option(help: "Stop after this many minutes of wall time (a checkpoint is written).") var maxMinutes: Double?
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Flag(help: "Print the configuration and parameter counts, then exit.") var info = false

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set
        do { try train() } catch let e as ExitCode { throw e } catch {
            FileHandle.standardError.write(Data("train-transgan: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    func train() throws {
        if let threads { Threading.setCount(threads) }
        let source = try DataSource(parsing: data, dataDir: dataDir)
        var cfg = try TransGANConfiguration.named(config).with(channels: source.channels)
        if let gWindow { cfg.gWindow = gWindow }
        if let gridFrom { cfg.gridAttentionFrom = gridFrom }
        try cfg.validate()
        var options = TrainingOptions()
        guard let l = GANLoss(rawValue: loss) else { throw TrainingError.badOption("unknown loss '\(loss)' (use wgangp-eps, hinge or logistic-r1)") }
        options.loss = l
        options.batch = batch
        options.gBatch = gBatch ?? 2 * batch
        options.nCritic = nCritic
        guard gpEvery >= 1 else { throw TrainingError.badOption("--gp-every must be at least 1, got \(gpEvery)") }
        options.gpEvery = gpEvery
        options.gpBatch = gpBatch
        guard r1Gamma >= 0 && r1Gamma.isFinite else { throw TrainingError.badOption("--r1-gamma must be a finite number ≥ 0, got \(r1Gamma)") }
        options.r1Gamma = r1Gamma
        for (flag, value) in [("--lr", lr), ("--g-lr", gLr ?? lr), ("--d-lr", dLr ?? lr)] where !(value > 0 && value.isFinite) {
            throw TrainingError.badOption("\(flag) must be a positive number, got \(value)")
        }
        options.gLearningRate = gLr ?? lr
        options.dLearningRate = dLr ?? lr
        options.emaKimg = emaKimg
        options.emaWarmup = emaWarmup
        options.emaBeta = emaBeta
        options.augment = augment
        options.seed = seed
        _ = try DiffAugment(policy: augment)

        if info {
            let g = RandomGenerator(seed: 0)
            print(cfg.summary)
            print("generator parameters: \(try Generator(cfg, generator: g).parameterCount)")
            print("discriminator parameters: \(try Discriminator(cfg, generator: g).parameterCount)")
            return
        }

        let dataset = try source.load(size: cfg.imageSize, channels: cfg.channels)
        let trainer = try Trainer(config: cfg, options: options, data: dataset)
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let checkpointURL = outURL.appendingPathComponent("checkpoint.safetensors")
        if let resume {
            try trainer.restore(from: SafeTensorsFile.read(from: URL(fileURLWithPath: resume)))
            log("resumed from \(resume) at step \(trainer.step)")
        }
        log("\(cfg.name): G \(trainer.generator.parameterCount) / D \(trainer.discriminator.parameterCount) parameters, "
            + "\(dataset.count) images, batch \(options.batch)/\(options.gBatch), \(Threading.count) threads, loss \(options.loss.rawValue)")

        var evaluator: FrechetEvaluator? = nil
        if evalEvery > 0 {
            evaluator = try FrechetEvaluator.prepared(cacheDirectory: URL(fileURLWithPath: evalCache), channels: cfg.channels,
                                                      imageSize: cfg.imageSize, log: log)
            log(String(format: "Fréchet distance real(train) vs real(test): %.3f", evaluator!.realVsReal))
        }

        // Fixed latents for the sample grids, independent of the training stream.
        let zGrid = Tensor.normal([64, cfg.latentDim], generator: RandomGenerator(seed: seed &+ 99)).materialized()
        let csvURL = outURL.appendingPathComponent("losses.csv")
        if trainer.step == 0 || !FileManager.default.fileExists(atPath: csvURL.path) {
            try "step,d_loss,g_loss,gp,d_real,d_fake,d_grad_norm,g_grad_norm,ema_beta,seconds\n".write(to: csvURL, atomically: true, encoding: .utf8)
        }
        let csv = try FileHandle(forWritingTo: csvURL)
        csv.seekToEndOfFile()
        let fidURL = outURL.appendingPathComponent("frechet.csv")

        signal(SIGINT) { _ in interruptRequested = 1 }
        let start = Date()
        let firstStep = trainer.step
        var lastGLoss = Double.nan
        var lastLog = Date.distantPast
        func save(_ why: String) throws {
            try trainer.saveCheckpoint(to: checkpointURL)
            log("checkpoint (\(why)) at step \(trainer.step): \(checkpointURL.path)")
        }
        func writeGrid() throws {
            let grid = sampleGrid(trainer.sample(z: zGrid), columns: 8, scale: 2)
            try grid.writePNG(to: outURL.appendingPathComponent(String(format: "samples_%06d.png", trainer.step)))
            try grid.writePNG(to: outURL.appendingPathComponent("samples_latest.png"))
        }
        while trainer.step < steps {
            if interruptRequested != 0 { try save("interrupted"); throw ExitCode(130) }
            if let maxMinutes, Date().timeIntervalSince(start) > maxMinutes * 60 { log("time limit reached"); break }
            let s: StepStatistics
            do { s = try trainer.trainStep() } catch let e as TrainingError {
                log("stopping: \(e); last good checkpoint kept at \(checkpointURL.path)")
                throw ExitCode.failure
            }
            if let g = s.gLoss { lastGLoss = g }
            let elapsed = Date().timeIntervalSince(start)
            let line = [String(s.step), fmt(s.dLoss), s.gLoss.map(fmt) ?? "", fmt(s.gradientPenalty), fmt(s.dReal), fmt(s.dFake),
                        fmt(s.dGradNorm), s.gGradNorm.map(fmt) ?? "", s.emaBeta.map { String(format: "%.6f", $0) } ?? "", String(format: "%.1f", elapsed)]
            csv.write(Data((line.joined(separator: ",") + "\n").utf8))
            let done = trainer.step - firstStep
            if Date().timeIntervalSince(lastLog) > 5 || trainer.step == steps {
                lastLog = Date()
                let rate = Double(done) / max(elapsed, 1e-9)
                let eta = Double(steps - trainer.step) / max(rate, 1e-9)
                log(String(format: "step %d/%d  %.3f it/s  D %.4f  G %.4f  GP %.4f  D(real) %.3f  D(fake) %.3f  ETA %@",
                           trainer.step, steps, rate, s.dLoss, lastGLoss, s.gradientPenalty, s.dReal, s.dFake, duration(eta)))
            }
            if sampleEvery > 0 && trainer.step % sampleEvery == 0 { try writeGrid() }
            if checkpointEvery > 0 && trainer.step % checkpointEvery == 0 { try save("periodic") }
            if snapshotEvery > 0 && trainer.step % snapshotEvery == 0 {
                try trainer.generatorSnapshot().write(to: outURL.appendingPathComponent(String(format: "gen_ema_%06d.safetensors", trainer.step)))
            }
            if let ev = evaluator, evalEvery > 0, trainer.step % evalEvery == 0 {
                let fd = try ev.distance(of: trainer, samples: evalSamples, seed: seed &+ 1234)
                log(String(format: "step %d  Fréchet distance %.3f  (real vs real %.3f)", trainer.step, fd, ev.realVsReal))
                let header = FileManager.default.fileExists(atPath: fidURL.path) ? "" : "step,frechet,real_vs_real,seconds\n"
                let row = header + String(format: "%d,%.4f,%.4f,%.1f\n", trainer.step, fd, ev.realVsReal, Date().timeIntervalSince(start))
                if let h = try? FileHandle(forWritingTo: fidURL) { h.seekToEndOfFile(); h.write(Data(row.utf8)); try? h.close() }
                else { try row.write(to: fidURL, atomically: true, encoding: .utf8) }
            }
        }
        try writeGrid()
        try save("completed")
    }
}

func fmt(_ v: Double) -> String { String(format: "%.5f", v) }

func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds)
    return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
