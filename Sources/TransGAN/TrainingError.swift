// Everything the TransGAN library refuses, as one typed error whose `description` names the flag or file and
// what was wrong; the tools print it as their single `error:` line. The wording follows Paint Transformer's
// messages where the two say the same thing (an unknown name, a non-finite step), so both tools read alike.

public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A loss, penalty or gradient norm of step `step` was NaN or infinite; the update was not applied.
    case nonFinite(step: Int, what: String)
    /// The trainer stopped on a non-finite value at `step`: its state is half a step on, so it takes no more
    /// steps and writes no checkpoint (the last one written stays the last good one).
    case stoppedAfterFailure(step: Int)
    case incompatibleCheckpoint(path: String, reason: String)
    /// A checkpoint or snapshot whose stored configuration, options or step cannot be used.
    case invalidCheckpoint(path: String, reason: String)
    /// A stored tensor holds NaN or infinity.
    case nonFiniteTensor(path: String, tensor: String)
    /// A command-line value outside its documented range.
    case invalidOption(flag: String, value: String, allowed: String)
    /// A name that is none of those a flag knows (a configuration, a data source).
    case unknownValue(flag: String, value: String, known: [String])
    /// A flag given with `--resume` that contradicts the value the checkpoint was trained with.
    case resumeConflict(flag: String, given: String, stored: String, checkpoint: String)
    case badOption(String)
    /// A collective call of data-parallel training failed, or another rank reported a failure.
    case distributed(String)

    public var description: String {
        switch self {
        case let .nonFinite(step, what): return "non-finite \(what) at step \(step); the update was not applied"
        case let .stoppedAfterFailure(step):
            return "training stopped at the non-finite step \(step); nothing more is trained or saved — resume from the last checkpoint"
        case let .incompatibleCheckpoint(path, reason): return "checkpoint \(path) does not fit this run: \(reason)"
        case let .invalidCheckpoint(path, reason): return "checkpoint \(path) cannot be used: \(reason)"
        case let .nonFiniteTensor(path, tensor): return "checkpoint \(path) cannot be used: tensor '\(tensor)' contains NaN or infinity"
        case let .invalidOption(flag, value, allowed): return "\(flag) must be \(allowed), got \(value)"
        case let .unknownValue(flag, value, known): return "unknown \(flag) '\(value)'; use one of \(known.joined(separator: ", "))"
        case let .resumeConflict(flag, given, stored, checkpoint):
            return "\(flag) \(given) contradicts checkpoint \(checkpoint), which was trained with \(flag) \(stored) "
                + "(omit \(flag) to continue with the stored value)"
        case let .badOption(m): return m
        case let .distributed(reason): return "data-parallel training: \(reason)"
        }
    }
}

/// Range checks that throw `TrainingError.invalidOption` naming the flag.
enum Require {
    /// `value` in `range`; `why` (optional) says where the bound comes from.
    static func int(_ value: Int, in range: ClosedRange<Int>, flag: String, _ why: String = "") throws(TrainingError) {
        guard range.contains(value) else {
            throw .invalidOption(flag: flag, value: String(value), allowed: "between \(range.lowerBound) and \(range.upperBound)" + why)
        }
    }

    /// A finite `value` with `value > 0` (or `≥ 0` when `zeroAllowed`), at most `maximum`.
    static func finite(_ value: Double, flag: String, zeroAllowed: Bool = false, maximum: Double = .greatestFiniteMagnitude,
                       _ why: String = "") throws(TrainingError) {
        let ok = value.isFinite && (zeroAllowed ? value >= 0 : value > 0) && value <= maximum
        guard ok else {
            let lower = zeroAllowed ? "≥ 0" : "> 0"
            let upper = maximum < .greatestFiniteMagnitude ? " and ≤ \(maximum)" : ""
            throw .invalidOption(flag: flag, value: String(value), allowed: "a finite number \(lower)\(upper)" + why)
        }
    }
}
