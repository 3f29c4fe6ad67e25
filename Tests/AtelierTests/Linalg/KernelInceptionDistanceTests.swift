// KID: the blocked kernel sums against a plain double loop, unbiasedness on one distribution, and growth
// with a shift between two.
import Foundation
import Testing
@testable import Atelier
import TestSupport

private func plainKernelSum(_ a: [Double], _ m: Int, _ b: [Double], _ n: Int, _ d: Int, skipDiagonal: Bool) -> Double {
    var total = 0.0
    for i in 0..<m {
        for j in 0..<n where !(skipDiagonal && i == j) {
            var dot = 0.0
            for k in 0..<d { dot += a[i * d + k] * b[j * d + k] }
            total += Foundation.pow(dot / Double(d) + 1, 3)
        }
    }
    return total
}

@Test func blockedKernelSumsMatchThePlainLoop() {
    var rng = TestRNG(31)
    // 517 rows cross the 512-row block; d = 7 is odd.
    let (m, n, d) = (517, 9, 7)
    let a = rng.values(m * d), b = rng.values(n * d)
    for (x, rows, y, cols, skip) in [(a, m, b, n, false), (a, m, a, m, true)] {
        let blocked = polynomialKernelSum(x, rows: rows, y, rows: cols, dim: d, skipDiagonal: skip)
        let plain = plainKernelSum(x, rows, y, cols, d, skipDiagonal: skip)
        #expect(Swift.abs(blocked - plain) <= 1e-9 * Swift.abs(plain), "\(blocked) vs \(plain)")
    }
}

@Test func kidIsNearZeroForOneDistributionAndGrowsWithAShift() throws {
    var rng = TestRNG(5)
    let d = 16, m = 400, n = 600
    func gaussian(_ rows: Int, shift: Double) -> [Double] {
        (0..<(rows * d)).map { _ in
            let u1 = Swift.max(rng.next(), 1e-300), u2 = rng.next()
            return shift + (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
        }
    }
    let reference = gaussian(n, shift: 0)
    let same = try kernelInceptionDistance(gaussian(m, shift: 0), rows: m, reference, rows: n, dim: d)
    let near = try kernelInceptionDistance(gaussian(m, shift: 0.25), rows: m, reference, rows: n, dim: d)
    let far = try kernelInceptionDistance(gaussian(m, shift: 0.5), rows: m, reference, rows: n, dim: d)
    // Unbiased: for one distribution the estimate scatters around 0 (a biased one would sit at a positive
    // offset of about the kernel's mean self-similarity over m and n, ≈ 0.01 here).
    #expect(Swift.abs(same) < 0.2 * near, "same \(same), near \(near)")
    #expect(near > 0 && far > 3 * near, "near \(near), far \(far)")
}

@Test func kidRejectsBadInput() {
    #expect(throws: LinearAlgebraError.self) { try kernelInceptionDistance([1, 2], rows: 1, [1, 2, 3, 4], rows: 2, dim: 2) }
    #expect(throws: LinearAlgebraError.self) { try kernelInceptionDistance([1, .nan, 3, 4], rows: 2, [1, 2, 3, 4], rows: 2, dim: 2) }
}
