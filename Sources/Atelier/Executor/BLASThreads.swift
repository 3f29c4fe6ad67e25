// OpenBLAS 0.3.21 has one thread count for the whole process (no per-call setting), so it follows the context that
// last entered `ExecutionContext.run` (every evaluation does), and a batched matmul lowers it to 1 around its
// slices. Its results can differ with that count at rounding level (a 171×153×174 dgemm: 3.6e-15 between 1 and 2
// threads), so evaluations running at once in contexts with different counts, or beside a batched matmul, are not
// bit-reproducible: one reason the test suite still runs serially.
import COpenBLAS

enum BLASThreads {
    /// Sets OpenBLAS's thread count to `n` unless it already is (the call takes a lock inside OpenBLAS).
    static func use(_ n: Int) {
        if openblas_get_num_threads() != Int32(n) { openblas_set_num_threads(Int32(n)) }
    }
}
