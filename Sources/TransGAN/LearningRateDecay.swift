// A linear learning-rate decay over a window of D steps (`--lr-decay START:END`), the schedule of the official
// code's `--lr_decay` (there from step 0 to the last step). Both networks' rates are scaled by the same factor:
// 1 before START, falling linearly to 0 at END. Late in a run the gradient noise of a constant rate keeps the
// generator circling a plateau; annealing it lets the weights (and the EMA that is scored) settle.
import Foundation

public struct LearningRateDecay: Sendable, Equatable, Codable {
    /// The first D step whose rate is below the base rate (the decay starts after it).
    public var start: Int
    /// The D step at which the rate reaches 0.
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// The factor on the base learning rate at D step `step` (0-based): 1 up to `start`, then linearly down to 0
    /// at `end`, and 0 after it.
    public func factor(atStep step: Int) -> Double {
        if step <= start { return 1 }
        if step >= end { return 0 }
        return Double(end - step) / Double(end - start)
    }

    /// "START:END" as `--lr-decay` takes it; anything else throws naming the flag.
    public init(parsing text: String) throws(TrainingError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let end = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw .invalidOption(flag: "--lr-decay", value: "'\(text)'", allowed: "START:END, two D-step numbers (e.g. 6000:12000)")
        }
        self.init(start: start, end: end)
        try validate()
    }

    func validate() throws(TrainingError) {
        guard start >= 0, end > start, end <= TransGANLimits.steps.upperBound else {
            throw .invalidOption(flag: "--lr-decay", value: "\(start):\(end)",
                                 allowed: "0 ≤ START < END ≤ \(TransGANLimits.steps.upperBound) (D steps)")
        }
    }

    public var description: String { "\(start):\(end)" }
}
