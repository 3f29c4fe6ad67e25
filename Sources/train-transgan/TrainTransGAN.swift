// train-transgan: trains TransGAN from the command line. Progress on stderr, samples/losses/checkpoints in
// --out, TensorBoard curves in --logdir; Ctrl-C saves a checkpoint and exits; --resume continues bit-identically.
// Errors: one line, exit 1.
// Started by `mpirun -np N`, the N processes train one model data-parallel; only rank 0 prints and writes.
import ArgumentParser
import AtelierMPI
import CommandLineSupport
import Atelier
import Foundation
import TransGAN

/// Set by the SIGINT handler; the loop checks it between steps.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0
/// False on MPI ranks other than 0, which train silently.
nonisolated(unsafe) var printsProgress = true

@main
struct TrainTransGAN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-transgan", abstract: "Train TransGAN (WGAN-GP, hinge or logistic with R1) on a CPU.",
        discussion: """
        Checkpoints store the configuration and every training option. `--resume CHECKPOINT` alone continues the run \
        with them; the flags marked "stored" may be repeated only with the stored value (a different one is an error \
        naming both). Flags marked "may change on resume" (steps, time limit, output, schedules, threads, data \
        directory) apply to the resumed run.
        """)

    @Option(help: "Model configuration: xl, s, m, l, s-lite, tiny, micro, grid64 (default tiny; stored).") var config: String?
    @Option(help: "Override: generator grid-attention window side (1…1024; stored).") var gWindow: Int?
    @Option(help: "Override: grid side from which generator stages use window attention, e.g. 32 to window the 32×32 stage (1…1024; stored).") var gridFrom: Int?
    @Option(help: "Override: generator width per stage, e.g. 256,128,64 (three values of 1…65536 divisible by the heads; a stage wider than ¼ of the previous one starts with a projection; stored).") var gDims: String?
    @Option(help: "Override: discriminator width (4…65536, divisible by 4 and the heads; stored).") var dDim: Int?
    @Option(help: "Override: discriminator blocks per scale (0…64; stored).") var dDepth: Int?
    @Option(help: "Override: discriminator patch side; the second scale uses 2× (1…1024, the image divisible by 2×, an even first grid; stored).") var dPatch: Int?
    @Flag(help: "Override: skip images in the generator — stages 1 and 2 also map tokens to an image, upsampled and added to the next (StyleGAN2's skip generator; stored).") var imageSkips = false
    @Option(help: "fashion-mnist | cifar10:PATH | folder:PATH | synthetic (default fashion-mnist; stored).") var data: String?
    @Option(help: "Directory of the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist; may change on resume).") var dataDir: String?
    @Option(help: "Total D steps: the run stops when it reaches this step (1…1000000000; may change on resume).") var steps = 1000
    @Option(help: "D batch size (default 32; 1…65536 and an estimated 16 GiB of activations per step; stored).") var batch: Int?
    @Option(help: "G batch size (default 2 × batch; same limits; stored).") var gBatch: Int?
    @Option(help: "D steps per G step (default 4; 1…1000; stored).") var nCritic: Int?
    @Option(help: "wgangp-eps (official, default) | hinge | logistic-r1 (non-saturating with an R1 penalty, StyleGAN2's; stored)") var loss: String?
    @Option(help: "R1 weight γ for --loss logistic-r1, penalty (γ/2)·E‖∇D(x_real)‖² (default 0.1; finite ≥ 0; stored).") var r1Gamma: Double?
    @Option(help: "Learning rate of both networks (default 1e-4; finite > 0; stored).") var lr: Double?
    @Option(help: "Generator learning rate (default: --lr; stored).") var gLr: Double?
    @Option(help: "Discriminator learning rate (default: --lr; e.g. 4 × the generator's for a two-time-scale update; stored).") var dLr: Double?
    @Option(help: "Compute the gradient penalty (or R1) every N D steps with N times its weight (default 1, official; 1…1000; stored).") var gpEvery: Int?
    @Option(help: "Compute the gradient penalty on the first N samples of each D batch (default: all, official; 1…batch; stored).") var gpBatch: Int?
    @Option(help: "EMA half-life in thousands of images (default 500; finite > 0; stored).") var emaKimg: Double?
    @Option(help: "EMA warm-up ratio (default 0.1; finite ≥ 0; 0: fixed --ema-beta; stored).") var emaWarmup: Double?
    @Option(help: "Fixed EMA beta when --ema-warmup is 0 (default 0.9999; 0…1; stored).") var emaBeta: Double?
    @Option(help: "DiffAugment policy (default translation,cutout,color; stored).") var augment: String?
    @Option(help: "Random seed (default 12345; stored).") var seed: UInt64?
    @Option(help: "Worker threads per process (1…1024; default: ATELIER_THREADS, or all cores shared among this machine's MPI ranks; may change on resume).") var threads: Int?
    @Option(help: "Split each batch into N parts with their own random streams, spread over the MPI ranks (default: the number of ranks, or the checkpoint's if larger; may change on resume). The results depend on N, not on the rank count.") var shards: Int?
    @Option(help: "Output directory (may change on resume).") var out = "runs/transgan"
    @Option(help: "Write a sample grid every N steps (0: never; may change on resume).") var sampleEvery = 200
    @Option(help: "Save the EMA generator alone (gen_ema_STEP.safetensors, for Fréchet curves) every N steps (0: never; may change on resume).") var snapshotEvery = 0
    @Option(help: "Write a checkpoint every N steps (0: only at the end; may change on resume).") var checkpointEvery = 500
    @Option(help: "Score the EMA generator (Fréchet distance and KID against the test split, as transgan-eval) every N steps into frechet.csv (0: never; Fashion-MNIST only; may change on resume).") var evalEvery = 0
    @Option(help: "Samples for each score (2…100000; default 5000, as transgan-eval; may change on resume).") var evalSamples = FrechetEvaluator.defaultSamples
    @Option(help: "Directory caching the evaluation classifier and real statistics (may change on resume).") var evalCache = "runs/transgan-eval-cache"
    @Option(help: "Stop after this many minutes of wall time, writing a checkpoint (finite > 0; may change on resume).") var maxMinutes: Double?
    @Option(help: "Resume from this checkpoint, with its stored configuration and options.") var resume: String?
    @Option(help: "Also write TensorBoard event files to this folder: losses, gradient penalty, D scores, gradient norms, EMA β, learning rates, it/s, Fréchet/KID and the sample grids; view with `tensorboard --logdir DIR`. A resumed run adds a file whose steps continue (may change on resume).")
    var logdir: String?
    @Flag(help: "Print the configuration and parameter counts, then exit.") var info = false

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "\(configuration.commandName ?? "train-transgan"): ") }

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set (before MPI starts)
        let group: ProcessGroup
        do { group = try MPIProcessGroup.fromEnvironment() ?? SingleProcess() } catch {
            FileHandle.standardError.write(Data("train-transgan: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        printsProgress = group.isRoot
        let mpi = group as? MPIProcessGroup
        do { try train(group: group) } catch let e as ExitCode {
            // A rank that stopped alone would leave the others waiting in a collective: an error ends the job.
            if e != ExitCode(130) && e != .success { mpi?.abort(code: e.rawValue) }
            mpi?.finalize()
            throw e
        } catch {
            log("train-transgan: error: \(error)")
            mpi?.abort(code: 1)
            throw ExitCode.failure
        }
        mpi?.finalize()
    }

    var flags: TrainingFlags {
        get throws {
            var f = TrainingFlags()
            f.config = config; f.gWindow = gWindow; f.gridFrom = gridFrom; f.data = data
            f.gDims = try gDims.map(TrainingFlags.parseDims); f.dDim = dDim; f.dDepth = dDepth; f.dPatch = dPatch; f.imageSkips = imageSkips ? true : nil
            f.batch = batch; f.gBatch = gBatch; f.nCritic = nCritic; f.loss = loss; f.r1Gamma = r1Gamma
            f.lr = lr; f.gLr = gLr; f.dLr = dLr; f.gpEvery = gpEvery; f.gpBatch = gpBatch
            f.emaKimg = emaKimg; f.emaWarmup = emaWarmup; f.emaBeta = emaBeta; f.augment = augment; f.seed = seed
            return f
        }
    }

    /// The flags that may change on resume (schedules, limits), checked before anything is loaded.
    func validateRunFlags(group: ProcessGroup) throws {
        if let threads { Threading.setCount(try Threading.validatedCount(threads)) } else if group.size > 1 {
            Threading.setCount(MPIProcessGroup.threadsPerLocalRank)
        }
        if let shards { try checkRange(shards, TransGANLimits.batch, "--shards") }
        try checkRange(steps, TransGANLimits.steps, "--steps")
        for (flag, every) in [("--sample-every", sampleEvery), ("--snapshot-every", snapshotEvery),
                              ("--checkpoint-every", checkpointEvery), ("--eval-every", evalEvery)] {
            try checkRange(every, 0...TransGANLimits.steps.upperBound, flag, " (0: never)")
        }
        try checkRange(evalSamples, TransGANLimits.evalSamples, "--eval-samples", " (the covariance needs two samples)")
        if logdir?.isEmpty == true { throw TrainingError.invalidOption(flag: "--logdir", value: "''", allowed: "a folder path") }
        if let maxMinutes, !(maxMinutes > 0 && maxMinutes.isFinite) {
            throw TrainingError.invalidOption(flag: "--max-minutes", value: String(maxMinutes), allowed: "a finite number > 0")
        }
    }

    func train(group: ProcessGroup) throws {
        try validateRunFlags(group: group)
        let resumeFile = try resume.map { try SafeTensorsFile.read(from: URL(fileURLWithPath: $0), sharedBy: group) }
        let setup = try resumeFile.map { try flags.resumedRun(from: $0, dataDir: dataDir) } ?? flags.newRun(dataDir: dataDir)
        let (cfg, options, source) = (setup.config, setup.options, setup.source)

        if info {
            print(cfg.summary)
            print("generator parameters: \(cfg.generatorParameterCount)")
            print("discriminator parameters: \(cfg.discriminatorParameterCount)")
            return
        }

        let dataset = try source.load(size: cfg.imageSize, channels: cfg.channels)
        let shardCount = try shards ?? max(resumeFile?.transGANShards() ?? 1, group.size)
        let trainer = try Trainer(config: cfg, options: options, data: dataset, shards: shardCount, group: group)
        let outURL = URL(fileURLWithPath: out)
        if group.isRoot { try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true) }
        let checkpointURL = outURL.appendingPathComponent("checkpoint.safetensors")
        // The last checkpoint known to hold a good state: the one resumed from, then each one written.
        var lastGood: (path: String, step: Int)? = nil
        if let resume, let resumeFile {
            try trainer.restore(from: resumeFile)
            log("resumed from \(resume) at step \(trainer.step)")
            lastGood = (resume, trainer.step)
        }
        log("\(cfg.name): G \(trainer.generator.parameterCount) / D \(trainer.discriminator.parameterCount) parameters, "
            + "\(dataset.count) images, batch \(options.batch)/\(options.gBatch), \(Threading.count) threads, loss \(options.loss.rawValue)"
            + (group.size > 1 || shardCount > 1 ? ", \(shardCount) shards on \(group.size) process\(group.size == 1 ? "" : "es")" : ""))

        // Before the evaluator's preparation, which can take minutes: a bad --logdir fails at once. The restart
        // step makes TensorBoard drop the points an earlier run logged in this folder past the step resumed from.
        var board: TensorBoardWriter? = nil
        if let logdir, group.isRoot {
            do { board = try TensorBoardWriter(logDirectory: URL(fileURLWithPath: logdir), restartStep: trainer.step + 1) } catch {
                throw TrainingError.badOption("--logdir: \(error)")
            }
        }
        /// A failed append costs the curves, not the run: one warning, then no more logging.
        func flushBoard() {
            do { try board?.flush() } catch {
                log("warning: --logdir: \(error); TensorBoard logging stops here, training goes on")
                board = nil
            }
        }

        var evaluator: FrechetEvaluator? = nil
        if evalEvery > 0 && group.isRoot {
            evaluator = try FrechetEvaluator.prepared(cacheDirectory: URL(fileURLWithPath: evalCache), channels: cfg.channels,
                                                      imageSize: cfg.imageSize, log: log)
            let rungs = try CalibrationLadder.rungs(evaluator: evaluator!, samples: evalSamples, seed: 1235,
                                                    dataDirectory: dataDir.map { URL(fileURLWithPath: $0) },
                                                    cacheDirectory: URL(fileURLWithPath: evalCache), log: log)
            log("calibration at \(evalSamples) samples: " + CalibrationLadder.summary(rungs))
            if let data = try? JSONEncoder().encode(rungs) { try AtomicFile.write(data, to: outURL.appendingPathComponent("calibration.json")) }
        }

        // Fixed latents for the sample grids, independent of the training stream.
        let zGrid = Tensor.normal([64, cfg.latentDim], rng: RandomGenerator(seed: options.seed &+ 99)).materialized()
        let csvURL = outURL.appendingPathComponent("losses.csv")
        var csv: FileHandle? = nil
        if group.isRoot {
            if trainer.step == 0 || !FileManager.default.fileExists(atPath: csvURL.path) {
                try "step,d_loss,g_loss,gp,d_real,d_fake,d_grad_norm,g_grad_norm,ema_beta,seconds\n".write(to: csvURL, atomically: true, encoding: .utf8)
            }
            csv = try FileHandle(forWritingTo: csvURL)
            csv!.seekToEndOfFile()
        }
        let fidURL = outURL.appendingPathComponent("frechet.csv")
        var evalSeconds = 0.0

        // Ctrl-C, SIGTERM or SIGUSR1 save and stop (under mpirun, send SIGUSR1 to mpirun, which forwards it).
        for number in [SIGINT, SIGTERM, SIGUSR1] { signal(number) { _ in interruptRequested = 1 } }
        let start = Date()
        let firstStep = trainer.step
        var lastGLoss = Double.nan
        var lastLog = Date.distantPast
        var rateMark = (step: firstStep, time: start)   // it/s over the interval between progress lines
        var lastGridStep: Int? = nil
        func save(_ why: String) throws {
            try trainer.saveCheckpoint(to: checkpointURL)
            lastGood = (checkpointURL.path, trainer.step)
            log("checkpoint (\(why)) at step \(trainer.step): \(checkpointURL.path)")
        }
        func writeGrid() throws {
            guard group.isRoot, lastGridStep != trainer.step else { return }
            lastGridStep = trainer.step
            let grid = sampleGrid(trainer.sample(z: zGrid), columns: 8, scale: 2)
            let png = try grid.pngData()
            for name in [String(format: "samples_%06d.png", trainer.step), "samples_latest.png"] {
                try writeFileAtomically(png, to: outURL.appendingPathComponent(name))
            }
            board?.image(tag: "samples", png: png, width: grid.width, height: grid.height, channels: grid.channels, step: trainer.step)
        }
        while trainer.step < steps {
            // Ranks see Ctrl-C and the clock at different moments: they vote, so all stop after the same step.
            let interrupted = interruptRequested != 0
            let timeUp = maxMinutes.map { Date().timeIntervalSince(start) > $0 * 60 } ?? false
            let (stopInterrupted, stopTimeUp) = group.size == 1 ? (interrupted, timeUp)
                : (try group.any(interrupted), try group.any(timeUp))
            if stopInterrupted { try save("interrupted"); throw ExitCode(130) }
            if stopTimeUp { log("time limit reached"); break }
            let s: StepStatistics
            do { s = try trainer.trainStep() } catch let e as TrainingError {
                // Nothing is written after a failed step; say which file holds the last good state.
                let kept = lastGood.map { "last good checkpoint: \($0.path) (step \($0.step))" } ?? "no checkpoint was written by this run"
                throw TrainingError.badOption("\(e); \(kept)")
            }
            if let g = s.gLoss { lastGLoss = g }
            let elapsed = Date().timeIntervalSince(start)
            let line = [String(s.step), fmt(s.dLoss), s.gLoss.map(fmt) ?? "", fmt(s.gradientPenalty), fmt(s.dReal), fmt(s.dFake),
                        fmt(s.dGradNorm), s.gGradNorm.map(fmt) ?? "", s.emaBeta.map { String(format: "%.6f", $0) } ?? "", String(format: "%.1f", elapsed)]
            csv?.write(Data((line.joined(separator: ",") + "\n").utf8))
            // TensorBoard's step is the number of completed D steps, as in the progress line and the file names.
            if let board {
                var values = [("loss/d", s.dLoss), ("d/real", s.dReal), ("d/fake", s.dFake), ("grad_norm/d", s.dGradNorm)]
                if options.penaltyIsDue(atStep: s.step) {
                    values.append((options.loss == .logisticR1 ? "loss/r1_penalty" : "loss/gradient_penalty", s.gradientPenalty))
                }
                if let g = s.gLoss, let norm = s.gGradNorm, let beta = s.emaBeta {
                    values += [("loss/g", g), ("grad_norm/g", norm), ("ema/beta", beta)]
                }
                for (tag, value) in values { board.scalar(tag: tag, value: value, step: trainer.step) }
            }
            let done = trainer.step - firstStep
            if Date().timeIntervalSince(lastLog) > 5 || trainer.step == steps {
                lastLog = Date()
                let window = lastLog.timeIntervalSince(rateMark.time)
                board?.scalar(tag: "speed/it_per_s", value: Double(trainer.step - rateMark.step) / max(window, 1e-9), step: trainer.step)
                board?.scalar(tag: "lr/g", value: options.gLearningRate, step: trainer.step)
                board?.scalar(tag: "lr/d", value: options.dLearningRate, step: trainer.step)
                rateMark = (trainer.step, lastLog)
                let rate = Double(done) / max(elapsed, 1e-9)
                let eta = Double(steps - trainer.step) / max(rate, 1e-9)
                // Steps go in by interpolation: %d is 32-bit in String(format:) and printed 3000000000 negative.
                log("step \(trainer.step)/\(steps)  " + String(format: "%.3f it/s  D %.4f  G %.4f  GP %.4f  D(real) %.3f  D(fake) %.3f  ETA ",
                                                             rate, s.dLoss, lastGLoss, s.gradientPenalty, s.dReal, s.dFake) + formatDuration(eta))
            }
            if sampleEvery > 0 && trainer.step % sampleEvery == 0 { try writeGrid() }
            if checkpointEvery > 0 && trainer.step % checkpointEvery == 0 { try save("periodic") }
            if snapshotEvery > 0 && trainer.step % snapshotEvery == 0 && group.isRoot {
                try trainer.generatorSnapshot().write(to: outURL.appendingPathComponent(String(format: "gen_ema_%06d.safetensors", trainer.step)))
            }
            if let ev = evaluator, evalEvery > 0, trainer.step % evalEvery == 0 {
                let evalStart = Date()
                let score = try ev.score(of: trainer, samples: evalSamples, seed: options.seed &+ 1234)
                evalSeconds += Date().timeIntervalSince(evalStart)
                log("step \(trainer.step)  " + String(format: "Fréchet distance %.2f  KID×10³ %.3f  class entropy %.3f  (%d samples vs test split; %.0f s)",
                                                      score.frechet, score.kid * 1000, score.classEntropy, evalSamples, Date().timeIntervalSince(evalStart)))
                board?.scalar(tag: "eval/frechet", value: score.frechet, step: trainer.step)
                board?.scalar(tag: "eval/kid", value: score.kid, step: trainer.step)
                let header = FileManager.default.fileExists(atPath: fidURL.path) ? "" : "step,frechet,kid,samples,training_seconds,class_entropy\n"
                // Training time excludes the evaluations, so curves of runs that scored at different rates compare.
                let row = header + String(format: "%d,%.4f,%.6f,%d,%.1f,%.4f\n", trainer.step, score.frechet, score.kid, evalSamples,
                                          Date().timeIntervalSince(start) - evalSeconds, score.classEntropy)
                if let h = try? FileHandle(forWritingTo: fidURL) { h.seekToEndOfFile(); h.write(Data(row.utf8)); try? h.close() }
                else { try row.write(to: fidURL, atomically: true, encoding: .utf8) }
            }
            flushBoard()
        }
        try writeGrid()
        flushBoard()
        try save("completed")
        let seconds = Date().timeIntervalSince(start)
        log("done: \(trainer.step - firstStep) steps in \(formatDuration(seconds))"
            + String(format: " (%.3f s per step, %.0f s of it scoring)", seconds / Double(max(trainer.step - firstStep, 1)), evalSeconds))
        if group.size > 1 { log("rank 0 communication: \(trainer.communication.description)") }
    }
}

func fmt(_ v: Double) -> String { String(format: "%.5f", v) }

func checkRange(_ value: Int, _ range: ClosedRange<Int>, _ flag: String, _ why: String = "") throws {
    guard range.contains(value) else {
        throw TrainingError.invalidOption(flag: flag, value: String(value), allowed: "between \(range.lowerBound) and \(range.upperBound)\(why)")
    }
}

func log(_ message: String) {
    guard printsProgress else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
