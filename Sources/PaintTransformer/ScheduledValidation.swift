// `--validate-every`: the network scored during training on the fixed synthetic set (`SyntheticValidation`), each
// figure beside its mean-prediction baseline, into the progress log, TensorBoard and validation.csv
// (`ValidationLog`, which a resumed run continues).
import Foundation
import Atelier

struct ScheduledValidation {
    let validation: SyntheticValidation
    let csvURL: URL

    /// Draws the set (the same patches in every run, whatever its seed) for `strokesPerPatch` strokes.
    init(strokesPerPatch: Int, brushes: BrushSet, directory: URL) {
        validation = SyntheticValidation(brushes: brushes, strokesPerPatch: strokesPerPatch)
        csvURL = directory.appendingPathComponent("validation.csv")
    }

    /// Scores `network` after `step` steps.
    func score(_ network: StrokePredictorNetwork, step: Int, board: TensorBoardWriter?, log: (String) -> Void) throws(TrainerError) {
        let report = validation.evaluate(network)
        let (model, baseline) = (report.model, report.baseline)
        log("validation at step \(step): " + String(format: "L1 %.4f (baseline %.4f)  W %.4f (%.4f)  decision F1 %.3f (%.3f)  "
                                                        + "detection F1 %.3f (%.3f)  pixel L1 %.4f (%.4f)",
                                                        model.parameterL1, baseline.parameterL1, model.wasserstein, baseline.wasserstein,
                                                        model.decisionF1, baseline.decisionF1, model.detectionF1, baseline.detectionF1,
                                                        model.pixelL1, baseline.pixelL1))
        for (name, (m, b)) in zip(SyntheticValidationMetrics.names, zip(model.values, baseline.values)) {
            board?.scalar(tag: "validation/" + name, value: m, step: step)
            board?.scalar(tag: "validation_baseline/" + name, value: b, step: step)
        }
        do { try ValidationLog.append(report, step: step, to: csvURL) } catch { throw .unwritable(error) }
    }
}
