// Optional per-op timing of executor runs, to find where a training step spends its time: evaluations in a context
// with a profiler record into it (`ATELIER_PROFILE=1`, or `shapes`, gives the default context one).
import Foundation
import Synchronization

public final class Profiler: Sendable {
    /// Key timings by op name, input shapes and output shape instead of op name alone.
    public let byShape: Bool
    private let totals = Mutex<[String: (seconds: Double, calls: Int)]>([:])

    public init(byShape: Bool = false) { self.byShape = byShape }

    /// The profiler `ATELIER_PROFILE` asks for: by op for `1`, by op and shapes for `shapes`, else none.
    static func fromEnvironment() -> Profiler? {
        switch ProcessInfo.processInfo.environment["ATELIER_PROFILE"] {
        case "1": return Profiler()
        case "shapes": return Profiler(byShape: true)
        default: return nil
        }
    }

    func record(_ name: String, seconds: Double) {
        totals.withLock { totals in
            let t = totals[name] ?? (0, 0)
            totals[name] = (t.seconds + seconds, t.calls + 1)
        }
    }

    /// Seconds recorded so far, all rows together.
    public var totalSeconds: Double { totals.withLock { $0.values.reduce(0) { $0 + $1.seconds } } }

    /// Seconds recorded so far under `name` (an op name, or `executor:schedule` for planning evaluations).
    public func seconds(of name: String) -> Double { totals.withLock { $0[name]?.seconds ?? 0 } }

    /// Calls recorded so far under `name`.
    public func calls(of name: String) -> Int { totals.withLock { $0[name]?.calls ?? 0 } }

    /// Clears the accumulated timings.
    public func reset() { totals.withLock { $0 = [:] } }

    /// A table of op names by total time, largest first.
    public func report(top: Int = 25) -> String {
        let rows = totals.withLock { $0 }
        let all = rows.values.reduce(0) { $0 + $1.seconds }
        let width = max(28, rows.keys.map(\.count).max() ?? 0)
        func pad(_ s: String) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        var lines = [pad("op") + "         ms    calls   share"]
        for (name, t) in rows.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(top) {
            lines.append(pad(name) + String(format: " %10.1f %8d %6.1f%%", t.seconds * 1000, t.calls, 100 * t.seconds / max(all, 1e-12)))
        }
        return lines.joined(separator: "\n")
    }
}
