// Everything train-transgan is asked to do, as one value the library validates: the flags stored in checkpoints
// (`stored`, resolved by `TrainingFlags`) and the flags that may change on resume (limits, output, schedules,
// threads). Every check names its flag, so the executable only maps command-line values onto this type.
import Foundation
import Atelier

/// The options of a whole training run (`TransGANTrainingRun`); the defaults are train-transgan's.
public struct TrainingRunOptions: Sendable, Equatable {
    /// Model- and training-shaping flags; stored in checkpoints, so a resume may repeat them only unchanged.
    public var stored = TrainingFlags()
    /// Checkpoint to continue from, with its stored configuration and options.
    public var resume: String? = nil
    /// Directory of the Fashion-MNIST files (nil: `ImageDataset.fashionMNISTDirectory`).
    public var dataDir: String? = nil
    /// Total D steps: the run stops when the trainer reaches this step.
    public var steps = 1000
    /// Output directory: losses.csv, sample grids, snapshots, checkpoint, frechet.csv, calibration.json.
    public var out = "runs/transgan"
    /// Every N steps (0: never): a sample grid, an EMA generator snapshot, a checkpoint (0: only at the end),
    /// a Fréchet/KID score of the EMA generator.
    public var sampleEvery = 200
    public var snapshotEvery = 0
    public var checkpointEvery = 500
    public var evalEvery = 0
    /// Generated images per score.
    public var evalSamples = FrechetEvaluator.defaultSamples
    /// Directory caching the evaluation classifier, the real statistics and the calibration ladder.
    public var evalCache = "runs/transgan-eval-cache"
    /// Wall-time limit: the run stops after the first step past it, as if it had reached `steps`.
    public var maxMinutes: Double? = nil
    /// Folder for TensorBoard event files (nil: none).
    public var logdir: String? = nil
    /// Worker threads of the run's own work, installed for its scope (nil: the caller's context's count).
    public var threads: Int? = nil
    /// Parts of each batch with their own random streams (nil: the group's size, or the checkpoint's if larger).
    public var shards: Int? = nil

    public init() {}

    /// Checks the flags that may change on resume; the stored ones are checked when resolved (`resolved(group:)`).
    public func validate() throws(TrainingError) {
        if let threads, !Threading.allowedCounts.contains(threads) {
            throw .invalidOption(flag: "--threads", value: String(threads),
                                 allowed: "between \(Threading.allowedCounts.lowerBound) and \(Threading.allowedCounts.upperBound) worker threads")
        }
        if let shards { try Require.int(shards, in: TransGANLimits.batch, flag: "--shards") }
        try Require.int(steps, in: TransGANLimits.steps, flag: "--steps")
        for (flag, every) in [("--sample-every", sampleEvery), ("--snapshot-every", snapshotEvery),
                              ("--checkpoint-every", checkpointEvery), ("--eval-every", evalEvery)] {
            try Require.int(every, in: 0...TransGANLimits.steps.upperBound, flag: flag, " (0: never)")
        }
        try Require.int(evalSamples, in: TransGANLimits.evalSamples, flag: "--eval-samples", " (the covariance needs two samples)")
        if logdir?.isEmpty == true { throw .invalidOption(flag: "--logdir", value: "''", allowed: "a folder path") }
        if let maxMinutes { try Require.finite(maxMinutes, flag: "--max-minutes") }
    }

    /// What the run trains: the checkpoint's configuration and options when resuming (flags given anyway must
    /// agree), else the flags with their defaults; every value validated first. With a process group, every
    /// member calls this (the checkpoint is read once and shared).
    public func resolved(group: ProcessGroup = SingleProcess()) throws -> (run: TrainingFlags.Run, checkpoint: SafeTensorsFile?) {
        try validate()
        let checkpoint = try resume.map { try SafeTensorsFile.read(from: URL(fileURLWithPath: $0), sharedBy: group) }
        let run = try checkpoint.map { try stored.resumedRun(from: $0, dataDir: dataDir) } ?? stored.newRun(dataDir: dataDir)
        return (run, checkpoint)
    }
}
