// Optional per-op timing of executor runs (`ATELIER_PROFILE=1`, or `Profiler.enabled = true`), to find where
// a training step spends its time.
import Foundation

public enum Profiler {
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["ATELIER_PROFILE"].map { $0 == "1" || $0 == "shapes" } ?? false
    /// Key timings by op name, input shapes and output shape (`ATELIER_PROFILE=shapes`) instead of op name alone.
    nonisolated(unsafe) public static var byShape = ProcessInfo.processInfo.environment["ATELIER_PROFILE"] == "shapes"
    nonisolated(unsafe) private static var totals: [String: (seconds: Double, calls: Int)] = [:]

    static func record(_ name: String, seconds: Double) {
        let t = totals[name] ?? (0, 0)
        totals[name] = (t.seconds + seconds, t.calls + 1)
    }

    /// Seconds recorded so far, all rows together.
    public static var totalSeconds: Double { totals.values.reduce(0) { $0 + $1.seconds } }

    /// Seconds recorded so far under `name` (an op name, or `executor:schedule` for planning evaluations).
    public static func seconds(of name: String) -> Double { totals[name]?.seconds ?? 0 }

    /// Clears the accumulated timings.
    public static func reset() { totals = [:] }

    /// A table of op names by total time, largest first.
    public static func report(top: Int = 25) -> String {
        let all = totals.values.reduce(0) { $0 + $1.seconds }
        let width = max(28, totals.keys.map(\.count).max() ?? 0)
        func pad(_ s: String) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        var lines = [pad("op") + "         ms    calls   share"]
        for (name, t) in totals.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(top) {
            lines.append(pad(name) + String(format: " %10.1f %8d %6.1f%%", t.seconds * 1000, t.calls, 100 * t.seconds / max(all, 1e-12)))
        }
        return lines.joined(separator: "\n")
    }
}
