// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased squared MMD between two feature sets under
// the cubic polynomial kernel k(x, y) = (x·y / d + 1)³. Unlike the Fréchet distance it has no bias at small N
// (its expectation is 0 for two samples of one distribution), so scores at different sample counts compare.
import COpenBLAS

/// Unbiased MMD² of the rows of `x` (m × d) and `y` (n × d), m, n ≥ 2, row-major.
public func kernelInceptionDistance(_ x: [Double], rows m: Int, _ y: [Double], rows n: Int, dim d: Int) throws -> Double {
    guard m >= 2, n >= 2, x.count == m * d, y.count == n * d else {
        throw LinearAlgebraError.notSquare(rows: d, count: min(x.count, y.count))
    }
    guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else { throw LinearAlgebraError.nonFinite("features") }
    let xx = polynomialKernelSum(x, rows: m, x, rows: m, dim: d, skipDiagonal: true) / Double(m * (m - 1))
    let yy = polynomialKernelSum(y, rows: n, y, rows: n, dim: d, skipDiagonal: true) / Double(n * (n - 1))
    let xy = polynomialKernelSum(x, rows: m, y, rows: n, dim: d, skipDiagonal: false) / Double(m * n)
    return xx + yy - 2 * xy
}

/// Σ_{i,j} (a_i·b_j / d + 1)³, without the i = j terms when `skipDiagonal` (a and b the same set). Row blocks of
/// `a` keep the Gram block small (512 × n doubles) whatever the sample counts.
func polynomialKernelSum(_ a: [Double], rows m: Int, _ b: [Double], rows n: Int, dim d: Int, skipDiagonal: Bool) -> Double {
    let block = 512
    var gram = [Double](repeating: 0, count: min(block, m) * n)
    var total = 0.0
    a.withUnsafeBufferPointer { ap in
        for start in stride(from: 0, to: m, by: block) {
            let rows = min(block, m - start)
            BLASThreads.run(threads: Threading.count) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(d), 1 / Double(d),
                            ap.baseAddress! + start * d, Int32(d), b, Int32(d), 0, &gram, Int32(n))
            }
            for r in 0..<rows {
                var rowSum = 0.0
                for c in 0..<n where !(skipDiagonal && c == start + r) {
                    let t = gram[r * n + c] + 1
                    rowSum += t * t * t
                }
                total += rowSum
            }
        }
    }
    return total
}
