// How a run records its numbers: a step as a row of losses.csv and as TensorBoard scalars, a score as a row of
// frechet.csv. The formats are those of the first runs (plotting scripts and the README read them), so they
// change only with a new column at the end.
import Foundation
import Atelier

/// losses.csv: one row per D step; the G columns are empty on steps without a G step.
enum LossesCSV {
    static let header = "step,d_loss,g_loss,gp,d_real,d_fake,d_grad_norm,g_grad_norm,ema_beta,seconds\n"

    /// `seconds`: wall time since the run (this process) started.
    static func row(_ s: StepStatistics, seconds: Double) -> String {
        let fields = [String(s.step), number(s.dLoss), s.gLoss.map(number) ?? "", number(s.gradientPenalty), number(s.dReal),
                      number(s.dFake), number(s.dGradNorm), s.gGradNorm.map(number) ?? "",
                      s.emaBeta.map { String(format: "%.6f", $0) } ?? "", String(format: "%.1f", seconds)]
        return fields.joined(separator: ",") + "\n"
    }

    static func number(_ v: Double) -> String { String(format: "%.5f", v) }
}

/// frechet.csv: one row per score of the EMA generator.
enum FrechetCSV {
    static let header = "step,frechet,kid,samples,training_seconds,class_entropy\n"

    /// `trainingSeconds` excludes the time spent scoring, so curves of runs that scored at different rates compare.
    static func row(step: Int, _ score: EvaluationScore, samples: Int, trainingSeconds: Double) -> String {
        String(format: "%d,%.4f,%.6f,%d,%.1f,%.4f\n", step, score.frechet, score.kid, samples, trainingSeconds, score.classEntropy)
    }
}

extension StepStatistics {
    /// The TensorBoard scalars of this step: D's always, the penalty on the steps that compute it (named after
    /// the loss), G's and the EMA β on the steps with a G step.
    func boardScalars(options: TrainingOptions) -> [(tag: String, value: Double)] {
        var values = [("loss/d", dLoss), ("d/real", dReal), ("d/fake", dFake), ("grad_norm/d", dGradNorm)]
        if options.penaltyIsDue(atStep: step) {
            values.append((options.loss == .logisticR1 ? "loss/r1_penalty" : "loss/gradient_penalty", gradientPenalty))
        }
        if let gLoss, let gGradNorm, let emaBeta {
            values += [("loss/g", gLoss), ("grad_norm/g", gGradNorm), ("ema/beta", emaBeta)]
        }
        return values
    }
}
