// The fp32 GEMM on both libraries, forced, against float64 on odd sizes (37×53×71, every transpose, strided
// operands, α, β and a bias row): within the fp32 accumulation bound γ_k·Σ|a||b| plus the few roundings of
// α·P + bias + β·C. The oneDNN path is tested wherever oneDNN has an fp32 matmul (every x86-64 CPU it runs on);
// OpenBLAS everywhere. The Matmul op's linear layer (bias) agrees on both paths, and automatic dispatch takes
// oneDNN only for large products with a brgemm kernel.
import Testing
@testable import Atelier
import TestSupport

@Suite struct SGEMMTests {
    static let libraryAvailable = SGEMM.libraryImplementation(m: 37, n: 53, k: 71, lda: 71, ldb: 53, ldc: 53) != nil
    static let paths: [SGEMM.Path] = libraryAvailable ? [.oneDNN, .openBLAS] : [.openBLAS]
    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    struct Problem {
        let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
        let a: [Float], b: [Float], c0: [Float], bias: [Float]?
        var lda: Int { (transA ? m : k) + 3 }
        var ldb: Int { (transB ? k : n) + 3 }
        var ldc: Int { n + 3 }

        init(transA: Bool, transB: Bool, m: Int = 37, n: Int = 53, k: Int = 71, alpha: Float = 1, beta: Float = 0,
             bias: Bool = false, seed: UInt64 = 1) {
            (self.transA, self.transB, self.m, self.n, self.k, self.alpha, self.beta) = (transA, transB, m, n, k, alpha, beta)
            var rng = TestRNG(seed)
            a = rng.floats((transA ? k : m) * ((transA ? m : k) + 3))
            b = rng.floats((transB ? n : k) * ((transB ? k : n) + 3))
            // β = 0 must not read C: start from NaN then.
            c0 = beta == 0 ? [Float](repeating: .nan, count: m * (n + 3)) : rng.floats(m * (n + 3))
            self.bias = bias ? rng.floats(n) : nil
        }

        func aAt(_ i: Int, _ l: Int) -> Float { transA ? a[l * lda + i] : a[i * lda + l] }
        func bAt(_ l: Int, _ j: Int) -> Float { transB ? b[j * ldb + l] : b[l * ldb + j] }

        func run(path: SGEMM.Path?) -> [Float] {
            var c = c0
            if let bias {
                SGEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           bias: bias, beta: beta, c: &c, ldc: ldc, path: path)
            } else {
                SGEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: &c, ldc: ldc, path: path)
            }
            return c
        }

        /// Every entry within γ_k·|α|·Σ|a||b| + 6u·(|α|Σ|a||b| + |bias| + |β·C|) of float64 (u = 2⁻²⁴: fp32 sums of k
        /// products in any order, with or without FMA, then at most three roundings combining the terms, each of a
        /// value below twice their absolute sum); padding columns untouched. Returns the worst error / bound.
        @discardableResult
        func check(_ c: [Float], _ label: String) -> Double {
            let u = 0x1p-24, gamma = Double(k) * u / (1 - Double(k) * u)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var exact = 0.0, absolute = 0.0
                    for l in 0..<k {
                        let p = Double(aAt(i, l)) * Double(bAt(l, j))
                        exact += p
                        absolute += abs(p)
                    }
                    let old = beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j])
                    let added = bias.map { Double($0[j]) } ?? 0
                    let scaled = abs(Double(alpha)) * absolute
                    let bound = gamma * scaled + 6 * u * (scaled + abs(added) + abs(old)) + Double.leastNonzeroMagnitude
                    let error = abs(Double(c[i * ldc + j]) - (Double(alpha) * exact + added + old))
                    worst = max(worst, error / bound)
                }
                for j in n..<ldc where !(c[i * ldc + j].isNaN && c0[i * ldc + j].isNaN) {
                    #expect(c[i * ldc + j] == c0[i * ldc + j], "\(label): padding C[\(i), \(j)] written")
                }
            }
            #expect(worst <= 1, "\(label): error / fp32 bound \(worst)")
            return worst
        }
    }

    @Test(arguments: paths)
    func matchesFloat64OnOddSizes(path: SGEMM.Path) {
        for (transA, transB) in Self.transposes {
            for (alpha, beta): (Float, Float) in [(1, 0), (0.75, -0.5)] {
                for bias in [false, true] {
                    let p = Problem(transA: transA, transB: transB, alpha: alpha, beta: beta, bias: bias)
                    // oneDNN scales a bias with α, so α ≠ 1 with a bias always takes OpenBLAS; forcing oneDNN there is
                    // not a supported call.
                    if path == .oneDNN && bias && alpha != 1 { continue }
                    p.check(p.run(path: path), "\(path) transA \(transA) transB \(transB) α \(alpha) β \(beta) bias \(bias)")
                }
            }
        }
    }

    /// A long K (accumulation order matters most) on both libraries, each within the bound, and close to each other.
    @Test(.enabled(if: libraryAvailable))
    func pathsAgreeOnALongSum() {
        for (transA, transB) in Self.transposes {
            let p = Problem(transA: transA, transB: transB, m: 19, n: 67, k: 1001, bias: true, seed: 7)
            p.check(p.run(path: .oneDNN), "oneDNN K 1001 transA \(transA) transB \(transB)")
            p.check(p.run(path: .openBLAS), "OpenBLAS K 1001 transA \(transA) transB \(transB)")
        }
    }

    /// Small products stay on OpenBLAS; a large one goes to oneDNN exactly when its kernel is a brgemm JIT kernel,
    /// and a context's forced path wins.
    @Test func automaticPathFollowsSizeAndKernel() {
        #expect(SGEMM.automaticPath(m: 37, n: 53, k: 71, lda: 71, ldb: 53, ldc: 53) == .openBLAS)
        let (m, n, k) = (512, 512, 256)
        #expect(m * n * k >= SGEMM.libraryMinimumWork)
        let implementation = SGEMM.libraryImplementation(m: m, n: n, k: k, lda: k, ldb: n, ldc: n)
        let expected: SGEMM.Path = implementation?.hasPrefix("brg:") == true ? .oneDNN : .openBLAS
        #expect(SGEMM.automaticPath(m: m, n: n, k: k, lda: k, ldb: n, ldc: n) == expected, "oneDNN kernel \(implementation ?? "none")")
        // A bias with α ≠ 1 never goes to oneDNN (it would scale the bias too).
        #expect(SGEMM.automaticPath(m: m, n: n, k: k, lda: k, ldb: n, ldc: n, alpha: 0.5, bias: true) == .openBLAS)
        ExecutionContext.current.with(sgemmPath: .openBLAS).run {
            #expect(SGEMM.automaticPath(m: m, n: n, k: k, lda: k, ldb: n, ldc: n) == .openBLAS)
        }
    }

    /// A linear layer (`matmul` with a bias, folded batch) large enough for oneDNN gives the same values on both
    /// paths to fp32 rounding, and each path is deterministic.
    @Test(.enabled(if: libraryAvailable))
    func linearLayerAgreesOnBothPaths() {
        var rng = TestRNG(11)
        let x = Tensor(shape: [3, 129, 131], floats: rng.floats(3 * 129 * 131))
        let w = Tensor(shape: [515, 131], floats: rng.floats(515 * 131))
        let bias = Tensor(shape: [515], floats: rng.floats(515))
        func run(_ path: SGEMM.Path) -> [Float] {
            ExecutionContext.current.with(sgemmPath: path).run { x.linear(weight: w, bias: bias).floats() }
        }
        let library = run(.oneDNN), blas = run(.openBLAS)
        #expect(run(.oneDNN) == library)
        #expect(run(.openBLAS) == blas)
        var worst: Float = 0
        for (p, q) in zip(library, blas) { worst = max(worst, abs(p - q) / max(1, abs(q))) }
        // 131 products of values in [-1, 1): sums below 131, fp32 order differences far below 1e-4 of that.
        #expect(worst < 1e-4, "largest relative difference \(worst)")
    }

    @Test(arguments: paths)
    func emptyProductsOnlyScaleCAndAddTheBias(path: SGEMM.Path) {
        var c: [Float] = [1, -2, 3, 4, 5, 6]
        let none: [Float] = [0]
        SGEMM.gemm(m: 2, n: 3, k: 0, a: none, lda: 1, b: none, ldb: 3, beta: 0.5, c: &c, ldc: 3, path: path)
        #expect(c == [0.5, -1, 1.5, 2, 2.5, 3])
        SGEMM.gemm(m: 2, n: 3, k: 0, a: none, lda: 1, b: none, ldb: 3, bias: [10, 20, 30], c: &c, ldc: 3, path: path)
        #expect(c == [10, 20, 30, 10, 20, 30])
        c = [.nan, .nan, .nan]
        SGEMM.gemm(m: 1, n: 3, k: 0, a: none, lda: 1, b: none, ldb: 3, c: &c, ldc: 3, path: path)
        #expect(c == [0, 0, 0])
    }

    @Test func misuseStopsNamingTheOpAndShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = [Float](repeating: 0, count: 12), b = [Float](repeating: 0, count: 20)
            var c = [Float](repeating: 0, count: 15)
            SGEMM.gemm(m: 3, n: 5, k: 4, a: a, lda: 3, b: b, ldb: 5, c: &c, ldc: 5)
        }
        let text = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(text.contains("[gemm_f32] lda 3 is shorter than a row of A [M 3, K 4]"), "\(text)")
    }
}
