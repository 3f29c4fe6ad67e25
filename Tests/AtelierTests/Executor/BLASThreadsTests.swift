// OpenBLAS has one thread count per process and GEMM results depend on it at rounding level: evaluations at 1 and 2
// threads, and a batched matmul (single-threaded OpenBLAS across parallel slices), running at the same time must
// each get exactly what they get alone.
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Atelier
import TestSupport

/// Three chained dgemms (171×174 · 174×153 and on, whose results differ between 1 and 2 OpenBLAS threads) with
/// elementwise work between them, a folded sgemm and a batched sgemm (16 products: single-threaded OpenBLAS in
/// slices at 2 threads).
private func blasWorkload() -> [[Double]] {
    var rng = TestRNG(33)
    let a = Tensor(shape: [171, 174], values: rng.values(171 * 174), dtype: .float64)
    let b = Tensor(shape: [174, 153], values: rng.values(174 * 153), dtype: .float64)
    let c = Tensor(shape: [96, 200], values: rng.values(96 * 200))
    let d = Tensor(shape: [200, 120], values: rng.values(200 * 120))
    let x = Tensor(shape: [16, 40, 48], values: rng.values(16 * 40 * 48))
    let y = Tensor(shape: [16, 48, 40], values: rng.values(16 * 48 * 40))
    let p1 = a.matmul(b).tanh()
    let p2 = p1.matmul(a, transA: true).exp()
    let p3 = p2.matmul(b)
    let outputs = [p1, p3, c.matmul(d), x.matmul(y)]
    evaluate(outputs)
    return outputs.map { $0.doubles() }
}

@Test func blasResultsDoNotDependOnWhatRunsBeside() {
    let contexts = [ExecutionContext.current.with(threads: 1), ExecutionContext.current.with(threads: 2)]
    let serial = contexts.map { $0.run(blasWorkload) }
    #expect(serial[0][1] != serial[1][1], "1 and 2 OpenBLAS threads gave the same dgemm: the test cannot see a wrong count")
    let mismatches = Mutex<[String]>([])
    // Four threads of their own (a thread pool might run them one after another), two per count, 50 evaluations each.
    let done = DispatchGroup()
    for worker in 0..<4 {
        done.enter()
        Thread {
            let k = worker % 2
            for round in 0..<50 {
                let values = contexts[k].run(blasWorkload)
                for (output, (got, expected)) in zip(values, serial[k]).enumerated() where got != expected {
                    mismatches.withLock { $0.append("\(contexts[k].threads) threads, round \(round), output \(output)") }
                }
            }
            done.leave()
        }.start()
    }
    done.wait()
    let found = mismatches.withLock { $0 }
    #expect(found.isEmpty, "\(found.count) results differ from their serial run: \(found.prefix(5))")
}

@Test func callsUnderALeaseShareIt() {
    let a = Tensor(shape: [64, 64], values: (0..<4096).map { Double($0 % 17) }, dtype: .float64)
    let one = ExecutionContext.current.with(threads: 1)
    let alone = one.run { a.matmul(a).doubles() }
    let leases = Mutex<[Int?]>([])
    let underLease = one.run {
        BLASThreads.hold(threads: 1) {
            // A caller for 2 threads now waits for the lease; a nested call that queued behind it would never run.
            let waiter = Thread { ExecutionContext.current.with(threads: 2).run { _ = a.matmul(a).doubles() } }
            waiter.start()
            Thread.sleep(forTimeInterval: 0.05)
            ExecutionContext.current.with(threads: 2).run {
                parallelFor(2) { _ in leases.withLock { $0.append(ExecutionContext.current.blasLease) } }
            }
            return a.matmul(a).doubles()
        }
    }
    #expect(leases.withLock { $0 } == [1, 1])
    #expect(underLease == alone)
}
