// train-paint-transformer: self-supervised training of the Paint Transformer stroke predictor on synthetic strokes.
// A thin shell over `PaintTransformerTrainer`: flags, progress on stderr, previews, checkpoints, TensorBoard curves
// (--logdir), Ctrl-C.
// Started by `mpirun -np N`, the N processes train one model data-parallel; only rank 0 prints and writes.
import ArgumentParser
import AtelierMPI
import CommandLineSupport
import Atelier
import Dispatch
import Foundation
import PaintTransformer

/// Set by the SIGINT handler, read by the training loop between steps.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func raise() { lock.lock(); raised = true; lock.unlock() }
    var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}

/// False on MPI ranks other than 0, which train silently.
nonisolated(unsafe) var printsProgress = true

func printError(_ message: String) {
    guard printsProgress else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func formatDuration(_ seconds: Double) -> String { PaintTransformerTrainingLimits.formatDuration(seconds) }

struct TrainPaintTransformer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-paint-transformer",
        abstract: "Train the Paint Transformer stroke predictor on synthetic strokes (self-supervised).")

    @Option(help: "Network configuration: small-proposals (the shipped design), small (the reference design at the same size), paper.") var config = "small-proposals"
    @Option(help: "Train until this many steps are done in total, 1…10⁹ (also the schedule length unless --schedule-steps).")
    var steps = 1000
    @Option(help: "Length of the learning-rate schedule, 1…10⁹ (default: --steps).") var scheduleSteps: Int?
    @Option(help: "Patches per step (a multiple of 4 up to 4096; default 64, or the checkpoint's when resuming).") var batch: Int?
    @Option(help: "Adam learning rate (β = 0.5, 0.999; default 1e-4, or the checkpoint's when resuming).") var lr: Double?
    @Option(help: "Seed for weights, data and dropout.") var seed: UInt64 = 0
    @Option(help: "Worker threads per process (default: ATELIER_THREADS, or all cores shared among this machine's MPI ranks).") var threads: Int?
    @Option(help: "Split each batch into N parts with their own random streams, spread over the MPI ranks (default: the number of ranks, or the checkpoint's if larger). The results depend on N, not on the rank count.")
    var shards: Int?
    @Option(help: "Directory for checkpoints, previews and the exported weights.") var out = "runs/paint"
    @Option(help: "Write preview.png (target | canvas | prediction) every N steps (0: never).") var previewEvery = 200
    @Option(help: "Write checkpoint.safetensors every N steps.") var checkpointEvery = 250
    @Option(help: "Print a progress line every N steps.") var logEvery = 10
    @Option(help: "Score the fixed synthetic validation set every N steps (0: never), appending to OUT/validation.csv.")
    var validateEvery = 250
    @Option(help: "Loss weights NAME=VALUE,… over the reference's (pixel=10, parameters=1, wasserstein=10, decision=10, recall=10, proposal-parameters=1, proposal-wasserstein=10, objectness=10); stored in checkpoints.")
    var lossWeights: String?
    @Option(help: "Also write TensorBoard event files to this folder: every loss term, the learning rate, it/s, the validation figures and the previews; view with `tensorboard --logdir DIR`. A resumed run adds a file whose steps continue.")
    var logdir: String?
    @Flag(help: "Continue from OUT/checkpoint.safetensors.") var resume = false

    func validate() throws {
        guard PaintTransformerConfiguration.named[config] != nil else {
            throw ValidationError("unknown --config '\(config)'; use one of \(PaintTransformerConfiguration.namesList)")
        }
        if let problem = PaintTransformerTrainingLimits.stepsProblem(steps) { throw ValidationError("--steps \(problem)") }
        if let scheduleSteps, let problem = PaintTransformerTrainingLimits.stepsProblem(scheduleSteps) {
            throw ValidationError("--schedule-steps \(problem)")
        }
        if let batch, let problem = PaintTransformerTrainingLimits.batchProblem(batch) { throw ValidationError("--batch \(problem)") }
        if let lr, let problem = PaintTransformerTrainingLimits.learningRateProblem(lr) { throw ValidationError("--lr \(problem)") }
        if let lossWeights, case let .failure(e) = PaintTransformerLossWeights.parse(lossWeights) {
            throw ValidationError("--loss-weights: \(e)")
        }
        if let threads { do { try Threading.validatedCount(threads) } catch { throw ValidationError("\(error)") } }
        if let shards, shards < 1 { throw ValidationError("--shards \(shards) is not a positive number") }
        if logdir?.isEmpty == true { throw ValidationError("--logdir must be a folder path, got ''") }
        guard checkpointEvery > 0, logEvery > 0, previewEvery >= 0, validateEvery >= 0 else {
            throw ValidationError("--checkpoint-every and --log-every must be positive, --preview-every and --validate-every non-negative")
        }
    }

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "") }

    func run() throws {
        BLASEnvironment.selectFastKernels()  // AVX2 OpenBLAS kernels unless OPENBLAS_CORETYPE is set (may re-execute: before MPI)
        let group: ProcessGroup
        do { group = try MPIProcessGroup.fromEnvironment() ?? SingleProcess() } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        printsProgress = group.isRoot
        // Every exit below goes through here: with several ranks, a rank that stops alone would leave the others
        // waiting in a collective call, so an error ends the whole job.
        do { try train(group: group) } catch {
            if let mpi = group as? MPIProcessGroup {
                if let code = error as? ExitCode, code == ExitCode(130) || code == .success { mpi.finalize(); throw error }
                mpi.abort(code: 1)
            }
            throw error
        }
        (group as? MPIProcessGroup)?.finalize()
    }

    func train(group: ProcessGroup) throws {
        if let threads { Threading.setCount(threads) } else if group.size > 1 { Threading.setCount(MPIProcessGroup.threadsPerLocalRank) }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            printError("error: cannot create output directory \(directory.path): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        let checkpointURL = directory.appendingPathComponent("checkpoint.safetensors")
        let trainer: PaintTransformerTrainer
        /// The newest checkpoint known to hold good weights (path and step), for the message after a failure.
        var lastGood: (path: String, step: Int)? = nil
        do {
            if resume {
                trainer = try PaintTransformerTrainer.resume(from: checkpointURL, totalSteps: scheduleSteps ?? steps, learningRate: lr, batchSize: batch,
                                                             lossWeights: try lossWeights.map { try PaintTransformerLossWeights.parse($0).get() },
                                                             shards: shards, group: group)
                guard trainer.settings.configuration.name == config else {
                    throw TrainerError.wrongConfiguration(path: checkpointURL.path, expected: config, found: trainer.settings.configuration.name)
                }
                printError("resumed \(checkpointURL.path) at step \(trainer.step)")
                lastGood = (checkpointURL.path, trainer.step)
            } else {
                let settings = TrainerSettings(configuration: PaintTransformerConfiguration.named[config]!, batchSize: batch ?? 64,
                                               learningRate: lr ?? 1e-4, totalSteps: scheduleSteps ?? steps, seed: seed,
                                               shards: shards ?? group.size)
                var chosen = settings
                if let lossWeights { chosen.lossWeights = try PaintTransformerLossWeights.parse(lossWeights).get() }
                trainer = try PaintTransformerTrainer(settings: chosen, group: group)
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        let net = trainer.network
        printError("config \(net.configuration), \(net.parameterCount) parameters; batch \(trainer.settings.batchSize), "
                   + "lr \(trainer.settings.learningRate), schedule \(trainer.settings.totalSteps) steps; threads \(Threading.count); loss weights \(trainer.settings.lossWeights.text)"
                   + (group.size > 1 || trainer.settings.shards > 1 ? "; \(trainer.settings.shards) shards on \(group.size) process\(group.size == 1 ? "" : "es")" : ""))

        // TensorBoard's step is the number of completed steps, as in the progress line. The restart step makes it drop
        // the points an earlier run logged in this folder past the step resumed from.
        var board: TensorBoardWriter? = nil
        if let logdir, group.isRoot {
            do { board = try TensorBoardWriter(logDirectory: URL(fileURLWithPath: logdir), restartStep: trainer.step + 1) } catch {
                printError("error: --logdir: \(error)")
                throw ExitCode.failure
            }
        }
        /// A failed append costs the curves, not the run: one warning, then no more logging.
        func flushBoard() {
            do { try board?.flush() } catch {
                printError("warning: --logdir: \(error); TensorBoard logging stops here, training goes on")
                board = nil
            }
        }

        // Ctrl-C, SIGTERM or SIGUSR1: finish the current step, save, stop. (Under mpirun, send SIGUSR1 to mpirun,
        // which forwards it; on Ctrl-C mpirun itself ends the ranks within a second or two.)
        let stop = StopFlag()
        let sources = [SIGINT, SIGTERM, SIGUSR1].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.raise() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        func save(_ why: String) throws {
            do {
                try trainer.saveCheckpoint(to: checkpointURL)  // every rank: it gathers their random streams
                if group.isRoot { try trainer.exportWeights(to: directory.appendingPathComponent("weights-f16.safetensors")) }
            } catch {
                printError("error: \(error)")
                throw ExitCode.failure
            }
            printError("saved \(checkpointURL.path) at step \(trainer.step) (\(why))")
            lastGood = (checkpointURL.path, trainer.step)
        }

        let validation = validateEvery > 0 ? SyntheticValidation(strokesPerPatch: net.configuration.strokesPerPatch) : nil
        let validationURL = directory.appendingPathComponent("validation.csv")
        func validate() throws {
            guard let validation, group.isRoot else { return }
            let report = validation.evaluate(net)
            printError("validation at step \(trainer.step): " + String(format: "L1 %.4f (baseline %.4f)  W %.4f (%.4f)  decision F1 %.3f (%.3f)  "
                              + "detection F1 %.3f (%.3f)  pixel L1 %.4f (%.4f)",
                              report.model.parameterL1, report.baseline.parameterL1, report.model.wasserstein,
                              report.baseline.wasserstein, report.model.decisionF1, report.baseline.decisionF1,
                              report.model.detectionF1, report.baseline.detectionF1, report.model.pixelL1, report.baseline.pixelL1))
            let (model, baseline) = (report.model.values, report.baseline.values)
            for (i, name) in SyntheticValidationMetrics.names.enumerated() {
                board?.scalar(tag: "validation/" + name, value: model[i], step: trainer.step)
                board?.scalar(tag: "validation_baseline/" + name, value: baseline[i], step: trainer.step)
            }
            do {
                try ValidationLog.append(report, step: trainer.step, to: validationURL)
            } catch {
                printError("error: \(error)")
                throw ExitCode.failure
            }
        }

        let start = Date()
        let firstStep = trainer.step
        if trainer.step == 0 { try validate(); flushBoard() }
        var window: [TrainingStepLosses] = []
        var rateMark = (step: firstStep, time: start)   // it/s over the interval between progress lines
        while trainer.step < steps {
            let wantPreview = previewEvery > 0 && (trainer.step + 1) % previewEvery == 0
            let result: PaintTransformerTrainer.StepResult
            do {
                result = try trainer.trainStep(preview: wantPreview)
            } catch {
                // The trainer refuses to save after a non-finite step; nothing below runs either.
                if let lastGood {
                    printError("\nerror: \(error); the last good checkpoint is \(lastGood.path) (step \(lastGood.step)), nothing was saved after the failure")
                } else {
                    printError("\nerror: \(error); no checkpoint was written in this run, and nothing was saved after the failure")
                }
                throw ExitCode.failure
            }
            window.append(result.losses)
            let losses = result.losses
            for (tag, value) in [("loss/total", losses.total), ("loss/pixel", losses.pixel), ("loss/parameters", losses.parameters),
                                 ("loss/wasserstein", losses.wasserstein), ("loss/decision", losses.decision),
                                 ("loss/proposal", losses.proposal), ("lr", losses.learningRate)] {
                board?.scalar(tag: tag, value: value, step: trainer.step)
            }
            if let sheet = result.preview, group.isRoot {
                do {
                    let png = try sheet.pngData()
                    try writeFileAtomically(png, to: directory.appendingPathComponent("preview.png"))
                    board?.image(tag: "preview", png: png, width: sheet.width, height: sheet.height, channels: sheet.channels, step: trainer.step)
                } catch {
                    printError("warning: \(error)")
                }
            }
            let done = trainer.step - firstStep
            if trainer.step % logEvery == 0 || trainer.step == steps {
                let elapsed = Date().timeIntervalSince(start)
                let rate = Double(done) / max(elapsed, 1e-9)
                let mean = { (f: (TrainingStepLosses) -> Double) in window.map(f).reduce(0, +) / Double(window.count) }
                let line = "step \(trainer.step)/\(steps)  " + String(format: "%.2f it/s  loss %.4f (pixel %.4f gt %.4f w %.4f decision %.4f proposal %.4f)  lr %.2e  elapsed %@  ETA %@",
                                  rate, mean(\.total), mean(\.pixel), mean(\.parameters),
                                  mean(\.wasserstein), mean(\.decision), mean(\.proposal), result.losses.learningRate,
                                  formatDuration(elapsed), formatDuration(Double(steps - trainer.step) / rate))
                printError(line)
                window.removeAll()
                let now = Date()
                board?.scalar(tag: "speed/it_per_s", value: Double(trainer.step - rateMark.step) / max(now.timeIntervalSince(rateMark.time), 1e-9),
                              step: trainer.step)
                rateMark = (trainer.step, now)
            }
            if validateEvery > 0, trainer.step % validateEvery == 0 || trainer.step == steps { try validate() }
            flushBoard()
            if trainer.step % checkpointEvery == 0 || trainer.step == steps { try save("step") }
            // Ranks see Ctrl-C at different moments: they vote, so all stop after the same step.
            let stopNow: Bool
            do { stopNow = try group.any(stop.isRaised) } catch {
                printError("error: \(error)")
                throw ExitCode.failure
            }
            if stopNow {
                try save("interrupted")
                throw ExitCode(130)
            }
        }
        printError("done: \(trainer.step - firstStep) steps in \(formatDuration(Date().timeIntervalSince(start)))")
        if group.size > 1 { printError("rank 0 communication: \(trainer.communication.description)") }
    }
}

TrainPaintTransformer.main()
