// The peak probe does the work it reports on every SIMD path: its checksum is the chains' recurrence computed
// here in Float64 (12 chains × the level's lanes), and its operation count is 2 per lane, chain and round.
import Testing
import CKernels
@testable import Atelier
import TestSupport

extension CKernelsTests {
    @Suite struct FMAProbe {
        @Test(arguments: CKernelsTests.levels)
        func probeComputesTheChainsItCounts(level: Int32) {
            withSIMDLevel(level) {
                let iterations: Int64 = 1_001, m = 0.999_9, a = 1e-4
                var flops = 0.0
                let checksum = ck_fma_probe(iterations, Float(m), Float(a), &flops)
                let lanes = [4, 8, 16][Int(ck_simd_level())]
                #expect(flops == 2 * Double(lanes) * 12 * Double(iterations))
                var expected = 0.0
                for c in 0..<12 {
                    var x = Double(Float(c + 1) * 1e-3)
                    for _ in 0..<iterations { x = x * Double(Float(m)) + Double(Float(a)) }
                    expected += Double(lanes) * x
                }
                // 1,001 rounded steps of a contracting recurrence: relative error well under 1e-4.
                #expect(abs(Double(checksum) - expected) <= 1e-4 * abs(expected), "level \(level): \(checksum) vs \(expected)")
            }
        }

        @Test func ceilingIsPositiveAndSharesScale() {
            let ceiling = FMACeiling.measure(threads: 1, rounds: 1, iterations: 10_000)
            #expect(ceiling.gigaflops > 0 && ceiling.threads == 1)
            #expect(abs(ceiling.share(of: ceiling.gigaflops / 2) - 0.5) < 1e-12)
        }
    }
}
