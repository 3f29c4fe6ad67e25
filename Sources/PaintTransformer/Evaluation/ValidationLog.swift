import Foundation
import Atelier

// validation.csv: one row per validation, `step`, then each metric for the model and for its baseline
// (`baseline_` prefix). Rows are appended by rewriting the whole file atomically, so a kill never leaves half a row.

public enum ValidationLog {
    public static var header: String {
        (["step"] + SyntheticValidationMetrics.names + SyntheticValidationMetrics.names.map { "baseline_" + $0 })
            .joined(separator: ",")
    }

    /// Appends `report` as the row for `step`; rows at or after `step` from an earlier run are dropped first (a
    /// resumed run repeats the steps after its checkpoint).
    public static func append(_ report: SyntheticValidationReport, step: Int, to url: URL) throws(FileWriteError) {
        var rows: [String] = []
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            rows = text.split(separator: "\n").dropFirst().map(String.init).filter { line in
                guard let first = line.split(separator: ",").first, let s = Int(first) else { return false }
                return s < step
            }
        }
        let values = ([Double(step)] + report.model.values + report.baseline.values)
        rows.append(String(step) + "," + values.dropFirst().map { String(format: "%.6g", $0) }.joined(separator: ","))
        try writeFileAtomically(Data(([header] + rows).joined(separator: "\n").appending("\n").utf8), to: url)
    }
}
