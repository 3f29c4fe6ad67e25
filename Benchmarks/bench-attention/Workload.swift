// Inputs and outputs of one attention problem, in raw buffers shared by all worker threads.
import Dispatch

/// A raw buffer that worker threads share. Rule: concurrent workers write disjoint index ranges only.
struct SharedBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int, fill: Float = 0) {
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: fill, count: max(count, 1))
        self.count = count
    }
    func free() { base.deallocate() }
    subscript(i: Int) -> Float { get { base[i] } nonmutating set { base[i] = newValue } }
    func zero() { base.update(repeating: 0, count: count) }
}

struct Workload {
    let p: Preset
    let scale: Float
    let q, k, v, dout: SharedBuffer    // [BH, Tq, D], [BH, Tk, D] ×2, [BH, Tq, D]
    let bias: SharedBuffer?            // [H, Tq, Tk]

    init(_ p: Preset) {
        self.p = p
        scale = 1 / Float(p.d).squareRoot()
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func fill(_ n: Int, _ amplitude: Float) -> SharedBuffer {
            let b = SharedBuffer(count: n)
            for i in 0..<n {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                b[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * amplitude
            }
            return b
        }
        q = fill(p.bh * p.tq * p.d, 1); k = fill(p.bh * p.tk * p.d, 1)
        v = fill(p.bh * p.tk * p.d, 1); dout = fill(p.bh * p.tq * p.d, 1)
        bias = p.bias ? fill(p.heads * p.tq * p.tk, 1) : nil
    }

    func free() { [q, k, v, dout].forEach { $0.free() }; bias?.free() }
}

/// Gradients and outputs of one implementation.
struct AttentionResult {
    let out, dq, dk, dv: SharedBuffer
    let dbias: SharedBuffer?
    init(_ p: Preset) {
        out = SharedBuffer(count: p.bh * p.tq * p.d); dq = SharedBuffer(count: p.bh * p.tq * p.d)
        dk = SharedBuffer(count: p.bh * p.tk * p.d); dv = SharedBuffer(count: p.bh * p.tk * p.d)
        dbias = p.bias ? SharedBuffer(count: p.heads * p.tq * p.tk) : nil
    }
    func free() { [out, dq, dk, dv].forEach { $0.free() }; dbias?.free() }
}

/// Runs body(range) for `parts` contiguous, nearly equal ranges of 0..<n on the pool.
func parallelSlices(_ n: Int, parts: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
    let parts = max(1, min(parts, n))
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        body(t, (n * t / parts)..<(n * (t + 1) / parts))
    }
}
