// oneDNN primitives are cached by shape and thread count: one created for 2 threads, executed at once from two
// threads at 1 thread each, returned wrong results now and then. Here the 2-thread primitive exists first, then two
// parallel slices run the same shape at 1 thread 200 times; every result must equal the serial 1-thread one.
import Synchronization
import Testing
@testable import Atelier
import TestSupport

private let (m, n, k) = (96, 80, 128)
private let available = BF16GEMM.libraryImplementation(m: m, n: n, k: k, lda: k, ldb: n, ldc: n) != nil

@Test(.enabled(if: available, "oneDNN has no bf16 matmul on this CPU"))
func primitivesForTwoThreadsAreNotRunAtOne() {
    var rng = TestRNG(71)
    let a = rng.floats(m * k), b = rng.floats(k * n)
    func gemm(_ path: BF16GEMM.Path, threads: Int) -> [Float] {
        var c = [Float](repeating: .nan, count: m * n)
        BF16GEMM.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, path: path, threads: threads)
        return c
    }
    let reference = gemm(.fallback, threads: 1)
    let two = gemm(.oneDNN, threads: 2), one = gemm(.oneDNN, threads: 1)
    // Both within fp32 accumulation error of the fallback (entries of |a|, |b| ≤ 1: Σ|a||b| ≤ k).
    let bound = 2 * BF16GEMM.errorBound(k: k, absoluteProducts: Double(k), inputsRounded: true)
    let finite = (two + one).allSatisfy(\.isFinite)
    #expect(finite)
    #expect(maxAbsDifference(two, reference) <= bound && maxAbsDifference(one, reference) <= bound)
    let mismatches = Mutex(0)
    ExecutionContext.current.with(threads: 2).run {
        for _ in 0..<200 {
            parallelFor(2) { slices in
                for _ in slices where gemm(.oneDNN, threads: 1) != one { mismatches.withLock { $0 += 1 } }
            }
        }
    }
    #expect(mismatches.withLock { $0 } == 0, "of 400 concurrent 1-thread executions")
}
