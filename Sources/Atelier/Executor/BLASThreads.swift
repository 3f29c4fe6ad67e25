// OpenBLAS 0.3.21 has one thread count for the whole process (no per-call setting), so it follows the context that
// last entered `ExecutionContext.run` (every evaluation does). Contexts with different counts at once therefore
// change only how many threads a GEMM runs on, never its result: OpenBLAS splits a product's rows and columns among
// its threads and sums every output element over k in the same order whatever the split (ExecutionContextTests
// checks this on the engine's shapes).
import COpenBLAS

enum BLASThreads {
    /// Sets OpenBLAS's thread count to `n` unless it already is (the call takes a lock inside OpenBLAS).
    static func use(_ n: Int) {
        if openblas_get_num_threads() != Int32(n) { openblas_set_num_threads(Int32(n)) }
    }
}
