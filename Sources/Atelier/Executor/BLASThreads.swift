// OpenBLAS 0.3.21 has one thread count for the whole process (no per-call setting), and its results can differ with
// that count at rounding level (a 171×153×174 dgemm: 3.6e-15 between 1 and 2 threads). So that every evaluation
// is reproducible whatever runs beside it, each OpenBLAS/LAPACK call runs under a lease on the count its context
// asks for: leases of one count are shared (callers with the same count run together); a caller wanting another
// count waits until no lease is held, then switches OpenBLAS's count. Once a caller waits for another count, new
// callers of the current count queue behind it, so no count starves.
import COpenBLAS
import Foundation

enum BLASThreads {
    /// Runs `body`, which calls OpenBLAS or LAPACK, with OpenBLAS on `threads` threads throughout.
    ///
    /// Code under a held lease (a batched matmul's slices: their context carries it) passes straight through; it
    /// must ask for the lease's count, as waiting there for another count could never end.
    static func run<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        if let held = ExecutionContext.current.blasLease {
            precondition(held == threads, "[blas] a call for \(threads) OpenBLAS threads inside a lease for \(held)")
            return try body()
        }
        gate.acquire(threads)
        defer { gate.release() }
        return try body()
    }

    /// Runs `body` under a lease for `threads` that its nested calls and `parallelFor` slices share (through the
    /// current context), e.g. many single-threaded GEMMs run in parallel slices.
    static func hold<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        try run(threads: threads) {
            var context = ExecutionContext.current
            context.blasLease = threads
            return try context.install(body)
        }
    }

    /// The one gate for the process, as OpenBLAS's count is one for the process.
    private static let gate = Gate()

    private final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        /// OpenBLAS's count while leases are held (re-read when none is: a benchmark may set it directly).
        private var count = 0
        private var held = 0
        /// Callers waiting, by the count they want.
        private var waiting: [Int: Int] = [:]
        private var waitingTotal = 0

        func acquire(_ n: Int) {
            condition.lock()
            var waited = false
            // A newcomer joins the current count only if nobody waits for another; a caller that already waited
            // joins whenever its count is current (so all the waiters for a count go in together).
            while held > 0 && (count != n || (!waited && waitingTotal > waiting[count, default: 0])) {
                waiting[n, default: 0] += 1
                waitingTotal += 1
                condition.wait()
                waiting[n, default: 0] -= 1
                waitingTotal -= 1
                waited = true
            }
            if held == 0 { count = Int(openblas_get_num_threads()) }
            if count != n {
                openblas_set_num_threads(Int32(n))
                count = n
                if waitingTotal > 0 { condition.broadcast() }
            }
            held += 1
            condition.unlock()
        }

        func release() {
            condition.lock()
            held -= 1
            if held == 0 && waitingTotal > 0 { condition.broadcast() }
            condition.unlock()
        }
    }
}
