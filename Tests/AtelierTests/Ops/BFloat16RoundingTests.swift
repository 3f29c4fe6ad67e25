// Bulk bf16 conversion: every element goes through Float.bfloat16Bits (nearest, ties to even, NaN kept), strided
// rows are packed, and widening is exact.
import Testing
@testable import Atelier
import TestSupport

@Suite struct BFloat16RoundingTests {
    @Test func roundsToNearestEvenAndPacksStridedRows() {
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷ (ties to the even 1); 1 + 3·2⁻⁸ ties up to 1 + 2⁻⁶; the largest
        // float rounds past bf16's largest finite value to infinity; 2⁻¹³⁰ (subnormal) is exact.
        let values: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 0x1p-8 + 0x1p-20), .infinity,
                               .nan, .greatestFiniteMagnitude, 0x1p-130, 7]
        let expected: [Float] = [1, 1 + 0x1p-6, -(1 + 0x1p-7), .infinity, .nan, .infinity, 0x1p-130, 7]
        // Two rows of 4 stored in rows of 5 (the 5th column must be skipped).
        let strided = Array(values[0..<4]) + [99] + Array(values[4..<8]) + [99]
        var bits = [UInt16](repeating: 0, count: 8), rounded = [Float](repeating: 0, count: 8), wide = rounded
        BFloat16.round(strided, rows: 2, cols: 4, ld: 5, into: &bits, threads: 1)
        BFloat16.roundToFloat(strided, rows: 2, cols: 4, ld: 5, into: &rounded, threads: 1)
        BFloat16.widen(bits, rows: 2, cols: 4, ld: 4, into: &wide, threads: 1)
        for i in 0..<8 {
            #expect(wide[i] == expected[i] || (wide[i].isNaN && expected[i].isNaN), "element \(i): \(wide[i]) vs \(expected[i])")
            #expect(rounded[i].bitPattern == wide[i].bitPattern, "element \(i)")
        }
    }

    @Test func parallelConversionMatchesSerial() {
        var rng = TestRNG(3)
        let n = 300_001, values = rng.floats(n).map { $0 * 1e3 }
        var serial = [UInt16](repeating: 0, count: n), parallel = serial
        BFloat16.round(values, rows: 1, cols: n, ld: n, into: &serial, threads: 1)
        BFloat16.round(values, rows: 1_001, cols: 299, ld: 299, into: &parallel, threads: 2)
        #expect(serial[..<(1_001 * 299)] == parallel[..<(1_001 * 299)])
        #expect(zip(values, serial).allSatisfy { $0.bfloat16Bits == $1 })
    }
}
