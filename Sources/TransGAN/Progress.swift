// The progress line of a training run, and duration formatting that cannot trap: an ETA is a Double that may be
// negative, NaN, infinite or far beyond Int's range (e.g. 9.2e18 steps at a slow rate); `Int(seconds)` would trap
// on the last three.
import Foundation
import Atelier

/// `H:MM:SS` for a duration in seconds; `?` for a negative or non-finite one, `>1000000 h` past a million hours.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    guard seconds < 3.6e9 else { return ">1000000 h" }
    let s = Int(seconds)
    return "\(s / 3600):" + String(repeating: "0", count: (s / 60) % 60 < 10 ? 1 : 0) + "\((s / 60) % 60):"
        + String(repeating: "0", count: s % 60 < 10 ? 1 : 0) + "\(s % 60)"
}

/// At most one line every 5 s, and one at the last step: the mean rate since the run started, the step's D
/// scalars, the latest G loss and an ETA. Each line also logs to TensorBoard the rate since the previous line
/// and the learning rates.
struct ProgressLine {
    let firstStep: Int
    private var lastGLoss = Double.nan
    private var last = Date.distantPast
    /// it/s over the interval between progress lines.
    private var rateMark: (step: Int, time: Date)

    init(firstStep: Int, start: Date) {
        self.firstStep = firstStep
        rateMark = (firstStep, start)
    }

    /// The line after D step `s` (the trainer is at `step`, `elapsed` seconds into the run), or nil if not due.
    mutating func line(after s: StepStatistics, step: Int, of total: Int, elapsed: Double, options: TrainingOptions,
                       board: TensorBoardWriter?) -> String? {
        if let g = s.gLoss { lastGLoss = g }
        guard Date().timeIntervalSince(last) > 5 || step == total else { return nil }
        last = Date()
        board?.scalar(tag: "speed/it_per_s", value: Double(step - rateMark.step) / max(last.timeIntervalSince(rateMark.time), 1e-9), step: step)
        let rates = options.learningRates(atStep: s.step)
        board?.scalar(tag: "lr/g", value: rates.g, step: step)
        board?.scalar(tag: "lr/d", value: rates.d, step: step)
        rateMark = (step, last)
        let rate = Double(step - firstStep) / max(elapsed, 1e-9)
        let eta = Double(total - step) / max(rate, 1e-9)
        // Steps go in by interpolation: %d is 32-bit in String(format:) and printed 3000000000 negative.
        return "step \(step)/\(total)  " + String(format: "%.3f it/s  D %.4f  G %.4f  GP %.4f  D(real) %.3f  D(fake) %.3f  ETA ",
                                                  rate, s.dLoss, lastGLoss, s.gradientPenalty, s.dReal, s.dFake) + formatDuration(eta)
    }
}
