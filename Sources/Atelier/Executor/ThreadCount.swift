// Validation of a user-given worker-thread count (`--threads`): one documented range for every tool, checked
// before `Threading.setCount` or `ExecutionContext(threads:)`, whose preconditions would trap on 0 or a negative
// count (and OpenBLAS takes an Int32: 4294967296 would trap converting).

/// A requested worker-thread count outside `Threading.allowedCounts`; `description` names the flag.
public struct ThreadCountError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The flag (or setting) the count came from, e.g. `--threads`.
    public var flag: String
    public var value: Int

    public init(flag: String, value: Int) {
        self.flag = flag
        self.value = value
    }

    public var description: String {
        "\(flag) must be between \(Threading.allowedCounts.lowerBound) and \(Threading.allowedCounts.upperBound) worker threads, got \(value)"
    }
}

extension Threading {
    /// Worker-thread counts a user may ask for: at least one; at most 1,024, far above any core count this
    /// engine targets (more threads than cores only adds contention).
    public static let allowedCounts: ClosedRange<Int> = 1...1024

    /// Returns `n` if it is in `allowedCounts`, else throws an error naming `flag`.
    @discardableResult
    public static func validatedCount(_ n: Int, flag: String = "--threads") throws(ThreadCountError) -> Int {
        guard allowedCounts.contains(n) else { throw ThreadCountError(flag: flag, value: n) }
        return n
    }
}
