// Symmetric eigen-decomposition (LAPACKE dsyevd) and the Fréchet distance between two Gaussians built on it.
import COpenBLAS

public enum LinearAlgebraError: Error, CustomStringConvertible {
    case notSquare(rows: Int, count: Int)
    case lapackFailure(routine: String, info: Int32)
    case nonFinite(String)
    public var description: String {
        switch self {
        case .notSquare(let n, let c): return "matrix with \(c) entries is not \(n)×\(n)"
        case .lapackFailure(let r, let info): return "LAPACK \(r) failed (info \(info))"
        case .nonFinite(let what): return "\(what) contains NaN or infinity"
        }
    }
}

/// Eigenvalues (ascending) and eigenvectors (columns of a row-major n×n matrix) of a symmetric matrix.
public func symmetricEigen(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
    guard matrix.count == n * n else { throw LinearAlgebraError.notSquare(rows: n, count: matrix.count) }
    guard matrix.allSatisfy(\.isFinite) else { throw LinearAlgebraError.nonFinite("matrix") }
    if n == 0 { return ([], []) }
    var a = matrix
    var w = [Double](repeating: 0, count: n)
    let info = a.withUnsafeMutableBufferPointer { ap in
        w.withUnsafeMutableBufferPointer { wp in
            BLASThreads.run(threads: Threading.count) {
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), ap.baseAddress, Int32(n), wp.baseAddress)
            }
        }
    }
    guard info == 0 else { throw LinearAlgebraError.lapackFailure(routine: "dsyevd", info: info) }
    return (w, a)
}

/// The principal square root of a symmetric positive semi-definite matrix (negative eigenvalues from
/// rounding are clamped to 0).
public func symmetricSqrt(_ matrix: [Double], n: Int) throws -> [Double] {
    let (values, vectors) = try symmetricEigen(matrix, n: n)
    var out = [Double](repeating: 0, count: n * n)
    for k in 0..<n {
        let s = max(values[k], 0).squareRoot()
        if s == 0 { continue }
        for i in 0..<n {
            let vik = vectors[i * n + k] * s
            for j in 0..<n { out[i * n + j] += vik * vectors[j * n + k] }
        }
    }
    return out
}

/// Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):
/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(√Σ₁ Σ₂ √Σ₁).
/// The symmetric form √Σ₁ Σ₂ √Σ₁ keeps every step a symmetric eigenproblem (no complex square roots).
public func frechetDistance(mean1: [Double], cov1: [Double], mean2: [Double], cov2: [Double]) throws -> Double {
    let n = mean1.count
    guard mean2.count == n else { throw LinearAlgebraError.notSquare(rows: n, count: mean2.count) }
    guard cov1.count == n * n else { throw LinearAlgebraError.notSquare(rows: n, count: cov1.count) }
    guard cov2.count == n * n else { throw LinearAlgebraError.notSquare(rows: n, count: cov2.count) }
    guard mean1.allSatisfy(\.isFinite), mean2.allSatisfy(\.isFinite) else { throw LinearAlgebraError.nonFinite("mean") }
    let s1 = try symmetricSqrt(cov1, n: n)
    // M = √Σ₁ · Σ₂ · √Σ₁ via two GEMMs.
    var tmp = [Double](repeating: 0, count: n * n), m = [Double](repeating: 0, count: n * n)
    BLASThreads.run(threads: Threading.count) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, s1, Int32(n), cov2, Int32(n), 0, &tmp, Int32(n))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, tmp, Int32(n), s1, Int32(n), 0, &m, Int32(n))
    }
    // Symmetrise against rounding before the eigen-solver.
    for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { let v = (m[i * n + j] + m[j * n + i]) / 2; m[i * n + j] = v; m[j * n + i] = v } }
    let (values, _) = try symmetricEigen(m, n: n)
    let traceSqrt = values.reduce(0) { $0 + max($1, 0).squareRoot() }
    var diff = 0.0, tr1 = 0.0, tr2 = 0.0
    for i in 0..<n {
        diff += (mean1[i] - mean2[i]) * (mean1[i] - mean2[i])
        tr1 += cov1[i * n + i]
        tr2 += cov2[i * n + i]
    }
    return diff + tr1 + tr2 - 2 * traceSqrt
}

/// Mean and (unbiased) covariance of `rows` feature vectors of length `dim` (row-major).
public func gaussianStatistics(_ features: [Double], rows: Int, dim: Int) -> (mean: [Double], covariance: [Double]) {
    precondition(features.count == rows * dim && rows > 1, "[gaussianStatistics] \(features.count) values for \(rows)×\(dim)")
    var mean = [Double](repeating: 0, count: dim)
    for r in 0..<rows { for d in 0..<dim { mean[d] += features[r * dim + d] } }
    for d in 0..<dim { mean[d] /= Double(rows) }
    var centered = features
    for r in 0..<rows { for d in 0..<dim { centered[r * dim + d] -= mean[d] } }
    var cov = [Double](repeating: 0, count: dim * dim)
    BLASThreads.run(threads: Threading.count) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(dim), Int32(dim), Int32(rows), 1 / Double(rows - 1),
                    centered, Int32(dim), centered, Int32(dim), 0, &cov, Int32(dim))
    }
    return (mean, cov)
}
