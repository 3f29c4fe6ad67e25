// A whole TransGAN training run as a library type, so that train-transgan is a thin shell (as `paint` is over
// `PaintJob`) and tests drive the run itself: the trainer stepped to the step or time limit, losses.csv, sample
// grids and EMA snapshots, Fréchet/KID scores, TensorBoard events and checkpoints on their schedules, a checkpoint
// at the end and when a stop is requested, and resume. Progress goes to a `log` callback, one line at a time.
// The caller turns signals into stop requests (the library installs no handlers). With a process group every
// member runs the same calls; only the root writes files and reports progress.
import Foundation
import Atelier
import AtelierMedia

/// How `TransGANTrainingRun.train` ended.
public struct TrainingRunSummary: Sendable, Equatable {
    /// The step training started from (the checkpoint's when resuming) and the step it ended at.
    public var firstStep: Int
    public var step: Int
    /// Wall time of `train`, and the part of it spent scoring (`evalEvery`).
    public var seconds: Double
    public var evaluationSeconds: Double
    /// The run ended because a stop was requested: it wrote a checkpoint, but no final sample grid.
    public var stoppedOnRequest: Bool
}

public final class TransGANTrainingRun {
    public let options: TrainingRunOptions
    public let trainer: Trainer
    public let group: ProcessGroup
    /// `options.out`: every file the run writes but the TensorBoard events.
    public let directory: URL
    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    private let log: (String) -> Void
    private var board: TensorBoardWriter?
    private var evaluation: ScheduledEvaluation?
    private let losses: FileHandle?
    /// Fixed latents of the sample grids, drawn apart from the training stream.
    private let gridLatents: Tensor
    private var lastGridStep: Int? = nil
    /// When `train` started: the origin of the CSVs' seconds and of the time limit.
    private var start = Date()
    /// The last checkpoint known to hold a good state: the one resumed from, then each one written.
    private var lastGood: (path: String, step: Int)? = nil

    /// Everything before the first step (on `options.threads` worker threads, as `train` is): validates the options,
    /// reads the checkpoint to resume, loads the data, builds (or restores) the trainer, opens losses.csv and the
    /// TensorBoard folder, and prepares the evaluator (which can take minutes the first time: see `ScheduledEvaluation`).
    public init(_ options: TrainingRunOptions, group: ProcessGroup = SingleProcess(), log: @escaping (String) -> Void = { _ in }) throws {
        let (run, checkpoint) = try options.resolved(group: group)
        let root = group.isRoot
        let report: (String) -> Void = { if root { log($0) } }
        self.options = options
        self.group = group
        self.log = report
        directory = URL(fileURLWithPath: options.out)

        let dataset = try ExecutionContext.run(threads: options.threads) { try run.source.load(size: run.config.imageSize, channels: run.config.channels) }
        let shards = try options.shards ?? max(checkpoint?.transGANShards() ?? 1, group.size)
        let trainer = try ExecutionContext.run(threads: options.threads) { try Trainer(config: run.config, options: run.options, data: dataset, shards: shards, group: group) }
        self.trainer = trainer
        if root { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        if let path = options.resume, let checkpoint {
            try ExecutionContext.run(threads: options.threads) { try trainer.restore(from: checkpoint) }
            report("resumed from \(path) at step \(trainer.step)")
            lastGood = (path, trainer.step)
        }
        report("\(run.config.name): G \(trainer.generator.parameterCount) / D \(trainer.discriminator.parameterCount) parameters, "
               + "\(dataset.count) images, batch \(run.options.batch)/\(run.options.gBatch), \(options.threads ?? Threading.count) threads, loss \(run.options.loss.rawValue)"
               + (run.options.precision == .fp32 ? "" : ", matrix products in \(run.options.precision.rawValue)")
               + (group.size > 1 || shards > 1 ? ", \(shards) shards on \(group.size) process\(group.size == 1 ? "" : "es")" : ""))

        // Before the evaluator's preparation: a bad --logdir fails at once. The restart step makes TensorBoard drop
        // the points an earlier run logged in this folder past the step resumed from.
        if let logdir = options.logdir, root {
            do { board = try TensorBoardWriter(logDirectory: URL(fileURLWithPath: logdir), restartStep: trainer.step + 1) } catch {
                throw TrainingError.badOption("--logdir: \(error)")
            }
        }
        if options.evalEvery > 0 && root {
            let folder = URL(fileURLWithPath: options.out)
            evaluation = try ExecutionContext.run(threads: options.threads) {
                try ScheduledEvaluation(options: options, config: run.config, trainingSeed: run.options.seed, directory: folder, log: report)
            }
        }
        gridLatents = ExecutionContext.run(threads: options.threads) { Tensor.normal([64, run.config.latentDim], rng: RandomGenerator(seed: run.options.seed &+ 99)).materialized() }
        var losses: FileHandle? = nil
        if root {
            let url = directory.appendingPathComponent("losses.csv")
            if trainer.step == 0 || !FileManager.default.fileExists(atPath: url.path) {
                try LossesCSV.header.write(to: url, atomically: true, encoding: .utf8)
            }
            losses = try FileHandle(forWritingTo: url)
            losses!.seekToEndOfFile()
        }
        self.losses = losses
    }

    /// Trains until `options.steps` or the time limit, then writes the last sample grid and a checkpoint. Before
    /// each step it asks `stopRequested` (e.g. set by a signal handler); a request writes a checkpoint and ends
    /// the run at once. On a failed step it writes nothing more and names the last good checkpoint.
    public func train(stopRequested: () -> Bool = { false }) throws -> TrainingRunSummary {
        try ExecutionContext.run(threads: options.threads) { try trainInContext(stopRequested: stopRequested) }
    }

    private func trainInContext(stopRequested: () -> Bool) throws -> TrainingRunSummary {
        start = Date()
        let firstStep = trainer.step
        var progress = ProgressLine(firstStep: firstStep, start: start)
        func summary(stopped: Bool) -> TrainingRunSummary {
            TrainingRunSummary(firstStep: firstStep, step: trainer.step, seconds: Date().timeIntervalSince(start),
                               evaluationSeconds: evaluation?.seconds ?? 0, stoppedOnRequest: stopped)
        }
        while trainer.step < options.steps {
            // Members see a stop request and the clock at different moments: they vote, so all stop after the same step.
            let requested = stopRequested()
            let timeUp = options.maxMinutes.map { Date().timeIntervalSince(start) > $0 * 60 } ?? false
            let (stop, stopForTime) = group.size == 1 ? (requested, timeUp) : (try group.any(requested), try group.any(timeUp))
            if stop {
                try saveCheckpoint("interrupted")
                return summary(stopped: true)
            }
            if stopForTime { log("time limit reached"); break }
            let s: StepStatistics
            do { s = try trainer.trainStep() } catch let e as TrainingError {
                // Nothing is written after a failed step; say which file holds the last good state (as Paint Transformer's).
                let kept = lastGood.map { "the last good checkpoint is \($0.path) (step \($0.step)), nothing was saved after the failure" }
                    ?? "no checkpoint was written in this run, and nothing was saved after the failure"
                throw TrainingError.badOption("\(e); \(kept)")
            }
            let elapsed = Date().timeIntervalSince(start)
            losses?.write(Data(LossesCSV.row(s, seconds: elapsed).utf8))
            // TensorBoard's step is the number of completed D steps, as in the progress line and the file names.
            for (tag, value) in s.boardScalars(options: trainer.options) { board?.scalar(tag: tag, value: value, step: trainer.step) }
            if let line = progress.line(after: s, step: trainer.step, of: options.steps, elapsed: elapsed, options: trainer.options,
                                        board: board) { log(line) }
            try writeScheduledFiles()
            flushBoard()
        }
        try writeSampleGrid()
        flushBoard()
        try saveCheckpoint("completed")
        let result = summary(stopped: false)
        let steps = result.step - result.firstStep
        log("done: \(steps) steps in \(formatDuration(result.seconds))"
            + String(format: " (%.3f s per step, %.0f s of it scoring)", result.seconds / Double(max(steps, 1)), result.evaluationSeconds))
        if group.size > 1 { log("rank 0 communication: \(trainer.communication.description)") }
        return result
    }

    /// What is due after the step just taken: sample grid, checkpoint, snapshot, score (in this order).
    private func writeScheduledFiles() throws {
        let step = trainer.step
        func due(_ every: Int) -> Bool { every > 0 && step % every == 0 }
        if due(options.sampleEvery) { try writeSampleGrid() }
        if due(options.checkpointEvery) { try saveCheckpoint("periodic") }
        if due(options.snapshotEvery) && group.isRoot {
            try trainer.generatorSnapshot().write(to: directory.appendingPathComponent(String(format: "gen_ema_%06d.safetensors", step)))
        }
        if due(options.evalEvery), evaluation != nil {
            try evaluation!.score(trainer, runStart: start, board: board, log: log)
        }
    }

    /// Every member calls this (the ranks' weights are compared and their streams gathered); the root writes.
    private func saveCheckpoint(_ why: String) throws {
        try trainer.saveCheckpoint(to: checkpointURL)
        lastGood = (checkpointURL.path, trainer.step)
        log("checkpoint (\(why)) at step \(trainer.step): \(checkpointURL.path)")
    }

    /// samples_STEP.png and samples_latest.png from the EMA generator, once per step.
    private func writeSampleGrid() throws {
        guard group.isRoot, lastGridStep != trainer.step else { return }
        lastGridStep = trainer.step
        let grid = sampleGrid(trainer.sample(z: gridLatents), columns: 8, scale: 2)
        let png = try grid.pngData()
        for name in [String(format: "samples_%06d.png", trainer.step), "samples_latest.png"] {
            try writeFileAtomically(png, to: directory.appendingPathComponent(name))
        }
        board?.image(tag: "samples", png: png, width: grid.width, height: grid.height, channels: grid.channels, step: trainer.step)
    }

    /// A failed append costs the curves, not the run: one warning, then no more logging.
    private func flushBoard() {
        do { try board?.flush() } catch {
            log("warning: --logdir: \(error); TensorBoard logging stops here, training goes on")
            board = nil
        }
    }
}
