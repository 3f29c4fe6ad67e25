// Counter-based random numbers (Philox-4×32-10): element i of a draw depends only on (seed, offset + i),
// so results are the same whatever the thread count or slicing.
import Foundation
import CKernels

/// Philox-4×32 with 10 rounds: four 32-bit words from a 128-bit counter and a 64-bit key.
@inline(__always)
func philox(_ counter: UInt64, _ seed: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
    var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
    var c2: UInt32 = 0x5EED, c3: UInt32 = 0
    var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
    for _ in 0..<10 {
        let p0 = UInt64(0xD2511F53) &* UInt64(c0), p1 = UInt64(0xCD9E8D57) &* UInt64(c2)
        let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
        let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
        c1 = UInt32(truncatingIfNeeded: p1); c3 = UInt32(truncatingIfNeeded: p0)
        c0 = n0; c2 = n2
        k0 = k0 &+ 0x9E3779B9; k1 = k1 &+ 0xBB67AE85
    }
    return (c0, c1, c2, c3)
}

/// A seeded stream of random draws. Each draw reserves a block of counters, so the sequence of draws
/// (not the threads that compute them) fixes every value. Its state is two integers, saved in checkpoints.
public final class RandomGenerator: @unchecked Sendable {
    public private(set) var seed: UInt64
    public private(set) var offset: UInt64

    public init(seed: UInt64, offset: UInt64 = 0) {
        self.seed = seed
        self.offset = offset
    }

    /// Switches this generator (and every module holding it) to another stream, e.g. one data-parallel
    /// shard's dropout stream.
    public func reposition(seed: UInt64, offset: UInt64) {
        self.seed = seed
        self.offset = offset
    }

    /// Reserves `n` counters and returns the first.
    public func reserve(_ n: Int) -> UInt64 {
        let start = offset
        offset &+= UInt64(n)
        return start
    }

    /// Uniform in [0, 1) on the host (for host-side decisions such as a batch-wide coin).
    public func nextUniform() -> Double {
        let (a, b, _, _) = philox(reserve(1), seed)
        return Double((UInt64(a) << 21) ^ UInt64(b >> 11) & ((1 << 53) - 1)) / Double(1 << 53)
    }

    /// Integer in `range` on the host.
    public func nextInt(in range: Range<Int>) -> Int {
        range.lowerBound + min(range.count - 1, Int(nextUniform() * Double(range.count)))
    }

    /// Standard normal on the host.
    public func nextNormal() -> Double {
        let u1 = max(nextUniform(), 1e-300), u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

public enum RandomKind: Sendable { case uniform(low: Double, high: Double), normal(mean: Double, std: Double), bernoulli(p: Double) }

struct RandomOp: NonDifferentiableOp {
    let kind: RandomKind
    let seed: UInt64, start: UInt64
    var name: String { "random" }
    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        dispatch(c.dtype, { run(c.outputs[0].pointer(as: Float.self), n) }, { run(c.outputs[0].pointer(as: Double.self), n) })
    }
    private func run<T: KernelScalar>(_ y: UnsafeMutablePointer<T>, _ n: Int) {
        let (kind, seed, start) = (self.kind, self.seed, self.start)
        if T.self == Float.self {
            // Vectorised C loops with the same values (see random.c).
            let out = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
            switch kind {
            case .uniform(let lo, let hi):
                parallelFor(n, grain: 8192) { r in
                    ck_random_uniform_f32(out + r.lowerBound, Int64(r.count), start &+ UInt64(r.lowerBound), seed, lo, hi)
                }
                return
            case .bernoulli(let p):
                parallelFor(n, grain: 8192) { r in
                    ck_random_bernoulli_f32(out + r.lowerBound, Int64(r.count), start &+ UInt64(r.lowerBound), seed, p)
                }
                return
            case .normal: break
            }
        }
        parallelFor(n, grain: 8192) { r in
            for i in r {
                let (a, b, c, d) = philox(start &+ UInt64(i), seed)
                // 53-bit uniforms in [0,1) and (0,1].
                let u = Double((UInt64(a) << 21) ^ UInt64(b >> 11) & ((1 << 53) - 1)) / Double(1 << 53)
                switch kind {
                case .uniform(let lo, let hi): y[i] = T(lo + (hi - lo) * u)
                case .bernoulli(let p): y[i] = u < p ? 1 : 0
                case .normal(let mean, let std):
                    let u1 = (Double((UInt64(c) << 21) ^ UInt64(d >> 11) & ((1 << 53) - 1)) + 1) / Double(1 << 53)
                    let z = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u)
                    y[i] = T(mean + std * z)
                }
            }
        }
    }
}

extension Tensor {
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor.make(RandomOp(kind: .uniform(low: low, high: high), seed: rng.seed, start: rng.reserve(n)), [], shape: shape, dtype: dtype)
    }
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor.make(RandomOp(kind: .normal(mean: mean, std: std), seed: rng.seed, start: rng.reserve(n)), [], shape: shape, dtype: dtype)
    }
    /// 1 with probability `p`, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor.make(RandomOp(kind: .bernoulli(p: p), seed: rng.seed, start: rng.reserve(n)), [], shape: shape, dtype: dtype)
    }
    /// Integers uniformly in `low..<high`, stored as floats.
    public static func randomIntegers(_ shape: [Int], low: Int, high: Int, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        uniform(shape, low: Double(low), high: Double(high), dtype: dtype, rng: rng).unary(.floor)
    }
}
