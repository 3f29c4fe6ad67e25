import Foundation
import Atelier

// Documented ranges for every number a training run takes, from flags or from a checkpoint: the CLI and
// `PaintTransformerTrainer.resume` check the same ones, so a file is trusted for nothing just because it parses.

public enum PaintTransformerTrainingLimits {
    /// Patches per step: a positive multiple of 4 (each background canvas gives 4 patches) up to this.
    public static let maximumBatchSize = 4096
    /// Steps to train and schedule lengths: 1…10⁹ (the schedule computes 220 · step in Int).
    public static let maximumSteps = 1_000_000_000

    /// nil if `batch` is allowed, else what is wrong.
    public static func batchProblem(_ batch: Int) -> String? {
        batch > 0 && batch % 4 == 0 && batch <= maximumBatchSize ? nil
            : "\(batch) is not a positive multiple of 4 up to \(maximumBatchSize) (each background canvas gives 4 patches)"
    }

    /// nil if `steps` is a valid run or schedule length (1…10⁹).
    public static func stepsProblem(_ steps: Int) -> String? {
        (1...maximumSteps).contains(steps) ? nil : "\(steps) is not in 1…\(maximumSteps)"
    }

    /// nil if a batch of `batch` patches splits into `shards` parts of whole canvases (4 patches each).
    public static func shardsProblem(_ shards: Int, batch: Int) -> String? {
        ShardPlan(batch: batch, shards: shards, granule: 4) != nil ? nil
            : "\(shards) is not in 1…\(max(batch / 4, 1)) (each shard of the \(batch)-patch batch needs at least one 4-patch canvas)"
    }

    /// nil if `step` is a valid count of completed steps (0…10⁹).
    public static func completedStepProblem(_ step: Int) -> String? {
        (0...maximumSteps).contains(step) ? nil : "\(step) is not in 0…\(maximumSteps)"
    }

    /// nil if `rate` is a finite positive number.
    public static func learningRateProblem(_ rate: Double) -> String? {
        rate.isFinite && rate > 0 ? nil : "\(rate) is not a finite positive number"
    }

    /// `1h02m`, `3m05s`; `?` for a negative or non-finite duration and `>1000000h` past a million hours, so an ETA
    /// at a slow rate never traps converting to Int.
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        guard seconds < 3.6e9 else { return ">1000000h" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h" + String(format: "%02ld", (s % 3600) / 60) + "m"
            : "\(s / 60)m" + String(format: "%02ld", s % 60) + "s"
    }
}
