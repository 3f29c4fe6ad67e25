// A whole Paint Transformer training run as a library type, so that train-paint-transformer is a thin shell (as
// train-transgan is over `TransGANTrainingRun`) and tests drive the run itself: the trainer stepped to `steps`,
// progress lines, preview.png, validation.csv, TensorBoard events and checkpoints (with the F16 weights beside
// them) on their schedules and at the end, a checkpoint when a stop is requested, and resume. Progress goes to a
// `log` callback, one line at a time. The caller turns signals into stop requests (the library installs no
// handlers). With a process group every member runs the same calls; only the root writes files and reports.
import Foundation
import Atelier
import AtelierMedia

/// How `PaintTransformerTrainingRun.train` ended.
public struct PaintTransformerTrainingRunSummary: Sendable, Equatable {
    /// The step training started from (the checkpoint's when resuming) and the step it ended at.
    public var firstStep: Int
    public var step: Int
    /// Wall time of `train`.
    public var seconds: Double
    /// The run ended because a stop was requested, after writing a checkpoint.
    public var stoppedOnRequest: Bool
}

public final class PaintTransformerTrainingRun {
    public let options: PaintTransformerTrainingRunOptions
    public let trainer: PaintTransformerTrainer
    public let group: ProcessGroup
    /// `options.out`: every file the run writes but the TensorBoard events.
    public let directory: URL
    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    /// The weights alone in F16, written with every checkpoint (what `paint --model` loads).
    public var weightsURL: URL { directory.appendingPathComponent("weights-f16.safetensors") }
    public var previewURL: URL { directory.appendingPathComponent("preview.png") }
    private let log: (String) -> Void
    private var board: TensorBoardWriter?
    private let validation: ScheduledValidation?
    /// The last checkpoint known to hold good weights: the one resumed from, then each one written.
    private var lastGood: (path: String, step: Int)? = nil

    /// Everything before the first step (on `options.threads` worker threads, as `train` is): validates the options,
    /// creates the output folder, builds the trainer (or resumes it from `out`/checkpoint.safetensors), opens the
    /// TensorBoard folder and draws the validation set. `brushes` paint the training and validation strokes.
    public init(_ options: PaintTransformerTrainingRunOptions, group: ProcessGroup = SingleProcess(), brushes: BrushSet = .oilPaint(),
                log: @escaping (String) -> Void = { _ in }) throws(TrainerError) {
        try options.validate()
        self.options = options
        self.group = group
        let root = group.isRoot, report = root ? log : { _ in }
        self.log = report
        let directory = URL(fileURLWithPath: options.out, isDirectory: true)
        self.directory = directory
        if root {
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw .outputDirectory(path: directory.path, reason: error.localizedDescription)
            }
        }

        let trainer: PaintTransformerTrainer
        if options.resume {
            let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
            trainer = try ExecutionContext.run(threads: options.threads) { () throws(TrainerError) in try PaintTransformerTrainer.resume(from: checkpoint, totalSteps: options.scheduleSteps ?? options.steps,
                                                         learningRate: options.learningRate, batchSize: options.batch,
                                                         lossWeights: try options.parsedLossWeights(), shards: options.shards,
                                                         precision: try options.parsedPrecision(),
                                                         brushes: brushes, group: group) }
            guard trainer.settings.configuration.name == options.config else {
                throw .wrongConfiguration(path: checkpoint.path, expected: options.config, found: trainer.settings.configuration.name)
            }
            report("resumed \(checkpoint.path) at step \(trainer.step)")
            lastGood = (checkpoint.path, trainer.step)
        } else {
            trainer = try ExecutionContext.run(threads: options.threads) { () throws(TrainerError) in
                try PaintTransformerTrainer(settings: try options.newRunSettings(processes: group.size), brushes: brushes, group: group)
            }
        }
        self.trainer = trainer
        let settings = trainer.settings
        report("config \(trainer.network.configuration), \(trainer.network.parameterCount) parameters; batch \(settings.batchSize), "
               + "lr \(settings.learningRate), schedule \(settings.totalSteps) steps; threads \(options.threads ?? Threading.count); loss weights \(settings.lossWeights.text)"
               + (settings.precision == .fp32 ? "" : "; matrix products in \(settings.precision.rawValue)")
               + (group.size > 1 || settings.shards > 1 ? "; \(settings.shards) shards on \(group.size) process\(group.size == 1 ? "" : "es")" : ""))

        // TensorBoard's step is the number of completed steps, as in the progress line. The restart step makes it
        // drop the points an earlier run logged in this folder past the step resumed from.
        if let logdir = options.logdir, root {
            do { board = try TensorBoardWriter(logDirectory: URL(fileURLWithPath: logdir), restartStep: trainer.step + 1) } catch {
                throw .invalidOption(flag: "--logdir", message: "--logdir: \(error)")
            }
        }
        validation = options.validateEvery > 0 && root
            ? ExecutionContext.run(threads: options.threads) {
                ScheduledValidation(strokesPerPatch: settings.configuration.strokesPerPatch, brushes: brushes, directory: directory)
            } : nil
    }

    /// Trains until `options.steps`, the last step checkpointed as if on schedule. After each step it asks
    /// `stopRequested` (e.g. set by a signal handler); a request writes a checkpoint and ends the run. On a failed
    /// step it writes nothing more and names the last good checkpoint (`TrainerError.stepFailed`).
    public func train(stopRequested: () -> Bool = { false }) throws(TrainerError) -> PaintTransformerTrainingRunSummary {
        try ExecutionContext.run(threads: options.threads) { () throws(TrainerError) in try trainInContext(stopRequested: stopRequested) }
    }

    private func trainInContext(stopRequested: () -> Bool) throws(TrainerError) -> PaintTransformerTrainingRunSummary {
        let start = Date(), firstStep = trainer.step
        var progress = TrainingProgress(firstStep: firstStep, start: start)
        func summary(stopped: Bool) -> PaintTransformerTrainingRunSummary {
            PaintTransformerTrainingRunSummary(firstStep: firstStep, step: trainer.step, seconds: Date().timeIntervalSince(start),
                                               stoppedOnRequest: stopped)
        }
        // The untrained network's figures: the first point of the curves.
        if trainer.step == 0 { try scoreValidation(); flushBoard() }
        while trainer.step < options.steps {
            let result: PaintTransformerTrainer.StepResult
            do { result = try trainer.trainStep(preview: isDue(options.previewEvery, step: trainer.step + 1)) } catch {
                throw .stepFailed(error, lastGood: lastGood)
            }
            let step = trainer.step, last = step == options.steps
            for (tag, value) in result.losses.boardScalars { board?.scalar(tag: tag, value: value, step: step) }
            if let sheet = result.preview, group.isRoot { writePreview(sheet) }
            if let line = progress.line(after: result.losses, step: step, of: options.steps, every: options.logEvery, board: board) { log(line) }
            if isDue(options.validateEvery, step: step) || last { try scoreValidation() }
            flushBoard()
            if isDue(options.checkpointEvery, step: step) || last { try saveCheckpoint("step") }
            // Members see a stop request at different moments: they vote, so all stop after the same step.
            let stop: Bool
            do { stop = try group.any(stopRequested()) } catch { throw .distributed("\(error)") }
            if stop {
                try saveCheckpoint("interrupted")
                return summary(stopped: true)
            }
        }
        let result = summary(stopped: false)
        log("done: \(result.step - firstStep) steps in \(PaintTransformerTrainingLimits.formatDuration(result.seconds))")
        if group.size > 1 { log("rank 0 communication: \(trainer.communication.description)") }
        return result
    }

    /// Whether a schedule of every `every` steps (0: never) falls on `step`.
    private func isDue(_ every: Int, step: Int) -> Bool { every > 0 && step % every == 0 }

    /// Nothing without `validateEvery` or off the root.
    private func scoreValidation() throws(TrainerError) {
        try validation?.score(trainer.network, step: trainer.step, board: board, log: log)
    }

    /// Every member calls this (it gathers their random streams); the root writes the checkpoint and the weights.
    private func saveCheckpoint(_ why: String) throws(TrainerError) {
        try trainer.saveCheckpoint(to: checkpointURL)
        if group.isRoot { try trainer.exportWeights(to: weightsURL) }
        log("saved \(checkpointURL.path) at step \(trainer.step) (\(why))")
        lastGood = (checkpointURL.path, trainer.step)
    }

    /// A preview that cannot be written costs the picture, not the run.
    private func writePreview(_ sheet: RasterImage) {
        do {
            let png = try sheet.pngData()
            try writeFileAtomically(png, to: previewURL)
            board?.image(tag: "preview", png: png, width: sheet.width, height: sheet.height, channels: sheet.channels, step: trainer.step)
        } catch {
            log("warning: \(error)")
        }
    }

    /// A failed append costs the curves, not the run: one warning, then no more logging.
    private func flushBoard() {
        do { try board?.flush() } catch {
            log("warning: --logdir: \(error); TensorBoard logging stops here, training goes on")
            board = nil
        }
    }
}

extension TrainingStepLosses {
    /// The TensorBoard scalars of a step: every loss term (weighted) and the learning rate.
    var boardScalars: [(tag: String, value: Double)] {
        [("loss/total", total), ("loss/pixel", pixel), ("loss/parameters", parameters), ("loss/wasserstein", wasserstein),
         ("loss/decision", decision), ("loss/proposal", proposal), ("lr", learningRate)]
    }
}
