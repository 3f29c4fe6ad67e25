// Settings travel with the code that runs: a context installed with `run` holds on its thread and on every
// `parallelFor` slice, and evaluations in different contexts running at the same time each keep their own settings
// and results (bit-identical to running alone).
import Dispatch
import Foundation
import Synchronization
import Testing
import CKernels
@testable import Atelier
import TestSupport

@Test func runInstallsTheContextForItsScopeOnly() {
    let outside = ExecutionContext.current
    let inner = ExecutionContext(threads: 3, simdLevel: 0, fusedAttention: false)
    inner.run {
        #expect(ExecutionContext.current.threads == 3 && Threading.count == 3)
        #expect(ExecutionContext.current.simdLevel == 0 && ck_simd_level() == 0)
        #expect(!ExecutionContext.current.fusedAttention)
        inner.with(threads: 1).run { #expect(Threading.count == 1) }
        #expect(Threading.count == 3)
    }
    #expect(ExecutionContext.current.threads == outside.threads && ExecutionContext.current.simdLevel == outside.simdLevel)
}

@Test(arguments: [(2, 0), (3, 1), (1, 2)])
func everySliceRunsInTheCallersContext(_ threads: Int, _ level: Int) {
    let seen = Mutex<[(threads: Int, level: Int32, fused: Bool)]>([])
    ExecutionContext(threads: threads, simdLevel: level, fusedAttention: false).run {
        parallelFor(12) { _ in
            let c = ExecutionContext.current
            seen.withLock { $0.append((c.threads, ck_simd_level(), c.fusedAttention)) }
        }
    }
    let slices = seen.withLock { $0 }
    #expect(slices.count == threads)
    let expectedLevel = min(Int32(level), ck_simd_level_supported())
    #expect(slices.allSatisfy { $0.threads == threads && $0.level == expectedLevel && !$0.fused }, "\(slices)")
}

/// Attention (fused or composite), batched and folded GEMMs, softmax, GELU, layer norm and dropout, forward and
/// backward: kernels that read the thread count, the SIMD level and the fused-attention switch.
private func contextWorkload() -> (values: [[Float]], plan: ExecutionPlan) {
    var inputs = TestRNG(21)
    let x = Tensor(shape: [4, 3, 33, 16], values: inputs.values(4 * 3 * 33 * 16))
    let w = Tensor(shape: [16, 16], values: inputs.values(16 * 16))
    let bias = Tensor(shape: [3, 33, 33], values: inputs.values(3 * 33 * 33))
    let q = x.matmul(w)
    let o = Tensor.attention(q: q, k: x, v: x, bias: bias, scale: 0.25)
    let h = o.gelu().layerNorm().dropout(0.2, rng: RandomGenerator(seed: 5))
    let loss = (h.matmul(w, transB: true).softmax() * x).sum()
    let grads = gradients(of: loss, wrt: [x, w, bias])
    let plan = evaluate([loss] + grads)
    return (([loss] + grads).map { $0.floats() }, plan)
}

@Test func concurrentEvaluationsKeepTheirOwnSettings() {
    let contexts = [ExecutionContext(threads: 1, simdLevel: 0, fusedAttention: false),
                    ExecutionContext(threads: 2, simdLevel: nil, fusedAttention: true),
                    ExecutionContext(threads: 2, simdLevel: 1, fusedAttention: false)]
    let serial = contexts.map { context in context.run(contextWorkload) }
    // The fused switch changed the graph: only the second context ran the fused attention kernel.
    for (context, result) in zip(contexts, serial) {
        #expect(result.plan.nodes.contains { $0.op?.name == "attention" } == context.fusedAttention)
    }
    #expect(serial[0].values != serial[1].values, "the settings made no difference: the test cannot tell them apart")
    // Each context twice, all six at once.
    let results = Mutex<[Int: [[[Float]]]]>([:])
    DispatchQueue.concurrentPerform(iterations: 2 * contexts.count) { i in
        let k = i % contexts.count
        let values = contexts[k].run(contextWorkload).values
        results.withLock { $0[k, default: []].append(values) }
    }
    let concurrent = results.withLock { $0 }
    for k in contexts.indices {
        #expect(concurrent[k]?.count == 2)
        for values in concurrent[k] ?? [] { #expect(values == serial[k].values, "context \(k) differs from its serial run") }
    }
}

@Test func evaluationsRecordIntoTheirContextsProfiler() {
    let a = Profiler(), b = Profiler(byShape: true)
    let x = Tensor(shape: [64], values: (0..<64).map(Double.init))
    ExecutionContext.current.with(profiler: a).run { _ = evaluate([x.exp()]) }
    evaluate([x.square()], in: ExecutionContext.current.with(profiler: b))
    #expect(a.calls(of: "executor:schedule") == 1 && b.calls(of: "executor:schedule") == 1)
    #expect(a.report().contains("exp") && !a.report().contains("square"))
    #expect(b.report().contains("square [[64]] → [64]") && !b.report().contains("exp"))
    a.reset()
    #expect(a.totalSeconds == 0)
}
