// One parallelism setting for the whole process: Swift's slice pool and OpenBLAS's threads follow it.
import Foundation
import Dispatch
import COpenBLAS
import CKernels

/// Process-wide thread configuration.
public enum Threading {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured: Int? = nil

    /// Number of worker threads (`ATELIER_THREADS` if it is in `allowedCounts`, default: all cores).
    public static var count: Int {
        lock.lock(); defer { lock.unlock() }
        if let n = configured { return n }
        var n = ProcessInfo.processInfo.activeProcessorCount
        if let s = ProcessInfo.processInfo.environment["ATELIER_THREADS"], let v = Int(s), allowedCounts.contains(v) { n = v }
        configured = n
        openblas_set_num_threads(Int32(n))
        return n
    }

    /// Sets the worker count for both the slice pool and OpenBLAS. A count from a user goes through
    /// `validatedCount(_:flag:)` first; outside `allowedCounts` this is a programming error.
    public static func setCount(_ n: Int) {
        precondition(allowedCounts.contains(n), "[threads] thread count must be in \(allowedCounts), got \(n)")
        lock.lock(); configured = n; lock.unlock()
        openblas_set_num_threads(Int32(n))
    }
}

/// Runs `body` over `[0, count)` split into contiguous slices, one slice per task, on all worker threads.
/// Each index is visited exactly once; the split depends only on `count` and the thread count.
/// - Parameter grain: minimum indices per slice, so tiny loops stay on the calling thread.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = Threading.count
    let slices = min(threads, max(1, count / max(grain, 1)))
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
            box.value(lo..<hi)
            ck_float_mode_restore(mode)
        }
    }
}

/// Carries a non-Sendable value into a concurrent region. Rule: each task touches disjoint memory.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
