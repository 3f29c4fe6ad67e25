// The progress line of a Paint Transformer training run: every `logEvery` steps and at the last one, the mean of
// each loss term over the steps since the previous line (one step's loss is too noisy to read a trend from), the
// rate since the run started and an ETA. Each line also logs to TensorBoard the rate since the previous line.
import Foundation
import Atelier

struct TrainingProgress {
    let firstStep: Int
    let start: Date
    /// The steps since the previous line.
    private var window: [TrainingStepLosses] = []
    /// it/s over the interval between progress lines.
    private var rateMark: (step: Int, time: Date)

    init(firstStep: Int, start: Date) {
        self.firstStep = firstStep
        self.start = start
        rateMark = (firstStep, start)
    }

    /// The line after the step that brought the trainer to `step` (of `total`), or nil if not due.
    mutating func line(after losses: TrainingStepLosses, step: Int, of total: Int, every: Int, board: TensorBoardWriter?) -> String? {
        window.append(losses)
        guard step % every == 0 || step == total else { return nil }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(step - firstStep) / max(elapsed, 1e-9)
        let window = self.window
        let mean = { (term: (TrainingStepLosses) -> Double) in window.map(term).reduce(0, +) / Double(window.count) }
        let line = "step \(step)/\(total)  " + String(format: "%.2f it/s  loss %.4f (pixel %.4f gt %.4f w %.4f decision %.4f proposal %.4f)  lr %.2e  elapsed %@  ETA %@",
                                                      rate, mean(\.total), mean(\.pixel), mean(\.parameters), mean(\.wasserstein),
                                                      mean(\.decision), mean(\.proposal), losses.learningRate,
                                                      PaintTransformerTrainingLimits.formatDuration(elapsed),
                                                      PaintTransformerTrainingLimits.formatDuration(Double(total - step) / rate))
        self.window.removeAll()
        let now = Date()
        board?.scalar(tag: "speed/it_per_s", value: Double(step - rateMark.step) / max(now.timeIntervalSince(rateMark.time), 1e-9), step: step)
        rateMark = (step, now)
        return line
    }
}
