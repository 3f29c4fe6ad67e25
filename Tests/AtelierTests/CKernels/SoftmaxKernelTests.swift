// Vectorised exp and row softmax against libm in Float64, for each SIMD path.
import Testing
import CKernels
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

extension CKernelsTests {
    @Suite struct SoftmaxAndExp {
        /// Relative error in units of float32 ulp (2^-23 of the reference's binade), for normal results.
        static func ulps(_ got: Float, _ ref: Double) -> Double {
            let binade = Double(Float(ref).binade)
            return abs(Double(got) - ref) / (binade * 0x1p-23)
        }

        /// ck_exp_f32 over the normal result range, the underflow tail and special values. Claim: ≤ 2 ulp
        /// (Cephes' polynomial gives ~1 ulp; the range reduction and 2^n scaling add ≤ 1).
        @Test(arguments: CKernelsTests.levels)
        func expIsAccurate(level: Int32) {
            let n = 100_003 // odd: exercises the tail
            let xs: [Float] = (0..<n).map { -87.3 + (88.7 + 87.3) * Float($0) / Float(n - 1) }
            var ys = [Float](repeating: .nan, count: n)
            withSIMDLevel(level) { ck_exp_f32(&ys, xs, Int64(n)) }
            let worst = zip(xs, ys).reduce(0) { max($0, Self.ulps($1.1, exp(Double($1.0)))) }
            #expect(worst <= 2)

            let special: [Float] = [-.infinity, -200, -104, -95, 0, 89, 100, .infinity, .nan]
            var out = [Float](repeating: 0, count: special.count)
            withSIMDLevel(level) { ck_exp_f32(&out, special, Int64(special.count)) }
            #expect(out[0] == 0 && out[1] == 0 && out[2] >= 0 && out[2] < 1e-44)
            #expect(abs(Double(out[3]) - exp(-95.0)) <= 2e-45) // subnormal: absolute error of one subnormal step
            #expect(out[4] == 1 && out[5] == .infinity && out[6] == .infinity && out[7] == .infinity && out[8].isNaN)
        }

        /// Rows sum to 1 and match the Float64 definition to 1e-6 relative (exp ≤ 2 ulp, plus the float sum).
        @Test(arguments: CKernelsTests.levels, [1, 7, 16, 33, 1000])
        func softmaxRowsMatchDefinition(level: Int32, cols: Int) {
            let rows = 5
            var rng = TestRNG(UInt64(cols))
            var x = rng.floats(rows * cols).map { $0 * 30 }
            x[cols - 1] = -.infinity // a masked entry
            var y = [Float](repeating: .nan, count: rows * cols)
            withSIMDLevel(level) { ck_softmax_rows_f32(&y, x, Int64(rows), Int64(cols)) }
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!.isFinite ? row.max()! : 0
                let e = row.map { exp($0 - m) }, s = e.reduce(0, +)
                for j in 0..<cols {
                    let ref = s > 0 ? e[j] / s : 0
                    #expect(abs(Double(y[r * cols + j]) - ref) <= 1e-6 * max(ref, 1e-30) + 1e-12)
                }
            }
        }
    }
}
