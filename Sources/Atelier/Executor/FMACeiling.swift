import CKernels
import Foundation

/// The machine's measured FP32 peak: fused multiply-add chains on every worker thread at once, at the current
/// context's SIMD level. Benchmarks print their rates beside it, so a figure reads as a share of what this machine
/// can do rather than of a number from a data sheet (the CPU can change between runs; clocks drop when all cores
/// are busy).
public struct FMACeiling: Sendable, Codable, CustomStringConvertible {
    /// Best of the rounds, in GFLOP/s over all threads.
    public let gigaflops: Double
    public let threads: Int
    /// 0 portable (no FMA: multiply then add), 1 AVX2+FMA, 2 AVX-512.
    public let simdLevel: Int

    /// Measures: `rounds` timings of `iterations` chain steps per thread, the best kept (machines are shared).
    public static func measure(threads: Int = Threading.count, rounds: Int = 5, iterations: Int64 = 4_000_000) -> FMACeiling {
        precondition(threads > 0 && rounds > 0 && iterations > 0, "[FMACeiling] threads \(threads), rounds \(rounds), iterations \(iterations)")
        let context = ExecutionContext.current
        var best = 0.0
        for _ in 0..<rounds {
            let flops = UnsafeMutablePointer<Double>.allocate(capacity: threads)
            defer { flops.deallocate() }
            let slots = UncheckedSendable(flops)
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                context.install {
                    var done = 0.0
                    // The multiplier and addend keep every chain finite and non-subnormal.
                    let checksum = ck_fma_probe(iterations, 0.999_999, 1e-6, &done)
                    slots.value[t] = checksum.isFinite ? done : 0
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let total = (0..<threads).reduce(0.0) { $0 + flops[$1] }
            best = max(best, total / seconds / 1e9)
        }
        return FMACeiling(gigaflops: best, threads: threads, simdLevel: Int(context.install { ck_simd_level() }))
    }

    /// `rate` (GFLOP/s) as a share of the ceiling.
    public func share(of rate: Double) -> Double { gigaflops > 0 ? rate / gigaflops : 0 }

    public var description: String {
        let level = ["portable", "AVX2+FMA", "AVX-512"][min(max(simdLevel, 0), 2)]
        return String(format: "FP32 FMA ceiling %.1f GFLOP/s (%d thread%@, %@, measured)", gigaflops, threads,
                      threads == 1 ? "" : "s", level)
    }
}
