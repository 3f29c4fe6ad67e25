// The engine's data parallelism: a loop split into one contiguous slice per worker thread of the current context.
import Foundation
import Dispatch
import CKernels

/// The current context's thread count, for code written before `ExecutionContext`.
public enum Threading {
    /// Worker threads of `ExecutionContext.current`.
    public static var count: Int { ExecutionContext.current.threads }

    /// Sets the default context's worker count (executables, once at startup; scoped code uses
    /// `ExecutionContext.run`). A count from a user goes through `validatedCount(_:flag:)` first; outside
    /// `allowedCounts` this is a programming error.
    public static func setCount(_ n: Int) {
        precondition(allowedCounts.contains(n), "[threads] thread count must be in \(allowedCounts), got \(n)")
        ExecutionContext.default.threads = n
    }
}

/// Runs `body` over `[0, count)` split into contiguous slices, one slice per task, on the current context's worker
/// threads, each slice running in that context. Each index is visited exactly once; the split depends only on
/// `count` and the thread count.
/// - Parameter grain: minimum indices per slice, so tiny loops stay on the calling thread.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let context = ExecutionContext.current
    let slices = min(context.threads, max(1, count / max(grain, 1)))
    if slices <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: slices) { s in
            let lo = count * s / slices
            let hi = count * (s + 1) / slices
            guard lo < hi else { return }
            // Every slice runs with subnormals flushed, whichever thread takes it (see float_mode.c).
            let mode = ck_float_mode_flush_denormals()
            context.install { box.value(lo..<hi) }
            ck_float_mode_restore(mode)
        }
    }
}

/// Carries a non-Sendable value into a concurrent region. Rule: each task touches disjoint memory.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
