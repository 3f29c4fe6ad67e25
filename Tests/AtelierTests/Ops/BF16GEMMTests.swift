// The bf16 GEMM on every path it can take, against float64 on odd sizes (37×53×71, every transpose, strided
// operands, α and β): within BF16GEMM.errorBound of the product of the unrounded inputs (bf16 rounding plus fp32
// accumulation), and within the accumulation term alone of the product of the rounded inputs, which is what
// catches a wrong rounding rule (truncation is off by up to 2⁻⁷ per input, far outside it). The oneDNN path is
// tested wherever oneDNN has a bf16 matmul (natively or emulated); the fallback runs on every CPU.
// `ONEDNN_MAX_CPU_ISA=AVX512_CORE` (emulated bf16) or `=AVX2` (none) in the environment tests those CPUs here.
import Testing
@testable import Atelier
import TestSupport

@Suite struct BF16GEMMTests {
    /// oneDNN has a bf16 matmul here (on AVX2-only CPUs it has none and only the fallback is tested).
    static let libraryAvailable = BF16GEMM.libraryImplementation(m: 37, n: 53, k: 71, lda: 71, ldb: 53, ldc: 53) != nil
    static let paths: [BF16GEMM.Path] = libraryAvailable ? [.oneDNN, .fallback] : [.fallback]
    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    /// A test problem; leading dimensions are padded by 3 so strides are exercised.
    struct Problem {
        let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
        let a: [Float], b: [Float], c0: [Float]
        var lda: Int { (transA ? m : k) + 3 }
        var ldb: Int { (transB ? k : n) + 3 }
        var ldc: Int { n + 3 }

        init(transA: Bool, transB: Bool, m: Int = 37, n: Int = 53, k: Int = 71, alpha: Float = 1, beta: Float = 0, seed: UInt64 = 1) {
            (self.transA, self.transB, self.m, self.n, self.k, self.alpha, self.beta) = (transA, transB, m, n, k, alpha, beta)
            var rng = TestRNG(seed)
            let aRows = transA ? k : m, bRows = transB ? n : k
            a = rng.floats(aRows * ((transA ? m : k) + 3))
            b = rng.floats(bRows * ((transB ? k : n) + 3))
            // β = 0 must not read C: start from NaN then.
            c0 = beta == 0 ? [Float](repeating: .nan, count: m * (n + 3)) : rng.floats(m * (n + 3))
        }

        func aAt(_ i: Int, _ l: Int) -> Float { transA ? a[l * lda + i] : a[i * lda + l] }
        func bAt(_ l: Int, _ j: Int) -> Float { transB ? b[j * ldb + l] : b[l * ldb + j] }

        /// Runs the fp32-input entry point (or the bf16-bits one on pre-rounded inputs).
        func run(path: BF16GEMM.Path?, bitsInput: Bool) -> [Float] {
            var c = c0
            if bitsInput {
                let aBits = a.map(\.bfloat16Bits), bBits = b.map(\.bfloat16Bits)
                BF16GEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: aBits, lda: lda, b: bBits,
                              ldb: ldb, beta: beta, c: &c, ldc: ldc, path: path)
            } else {
                BF16GEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                              beta: beta, c: &c, ldc: ldc, path: path)
            }
            return c
        }

        /// Checks every entry of C against float64 with both bounds; returns the worst error / bound of each.
        func check(_ c: [Float], _ label: String) -> (unrounded: Double, rounded: Double) {
            var worst = (unrounded: 0.0, rounded: 0.0)
            for i in 0..<m {
                for j in 0..<n {
                    var exact = 0.0, exactRounded = 0.0, absolute = 0.0
                    for l in 0..<k {
                        let x = aAt(i, l), y = bAt(l, j)
                        exact += Double(x) * Double(y)
                        exactRounded += Double(Float(bfloat16Bits: x.bfloat16Bits)) * Double(Float(bfloat16Bits: y.bfloat16Bits))
                        absolute += abs(Double(x) * Double(y))
                    }
                    let old = beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j])
                    let got = Double(c[i * ldc + j])
                    let bound = BF16GEMM.errorBound(k: k, absoluteProducts: absolute, alpha: Double(alpha), beta: Double(beta),
                                                    absoluteC: abs(old))
                    // The rounded inputs' |a||b| exceed the fp32 inputs' by at most 2u + u², covered by the factor 1.01.
                    let roundedBound = BF16GEMM.errorBound(k: k, absoluteProducts: 1.01 * absolute, alpha: Double(alpha),
                                                           beta: Double(beta), absoluteC: abs(old), inputsRounded: true)
                    let e1 = abs(got - (Double(alpha) * exact + old)), e2 = abs(got - (Double(alpha) * exactRounded + old))
                    worst = (max(worst.unrounded, e1 / bound), max(worst.rounded, e2 / roundedBound))
                }
                // Padding columns of C stay as they were.
                for j in n..<ldc where !(c[i * ldc + j].isNaN && c0[i * ldc + j].isNaN) {
                    #expect(c[i * ldc + j] == c0[i * ldc + j], "\(label): padding C[\(i), \(j)] written")
                }
            }
            #expect(worst.unrounded <= 1, "\(label): error / bf16 bound \(worst.unrounded)")
            #expect(worst.rounded <= 1, "\(label): error / accumulation bound on rounded inputs \(worst.rounded)")
            return worst
        }
    }

    @Test(arguments: paths)
    func matchesFloat64OnOddSizes(path: BF16GEMM.Path) {
        for (transA, transB) in Self.transposes {
            for (alpha, beta): (Float, Float) in [(1, 0), (0.75, -0.5)] {
                let p = Problem(transA: transA, transB: transB, alpha: alpha, beta: beta)
                for bitsInput in [false, true] {
                    _ = p.check(p.run(path: path, bitsInput: bitsInput),
                                "\(path) transA \(transA) transB \(transB) α \(alpha) β \(beta) bits \(bitsInput)")
                }
            }
        }
    }

    /// The paths multiply the same bf16 operands, so they differ by fp32 accumulation order only.
    @Test(.enabled(if: libraryAvailable))
    func pathsAgreeToAccumulationError() {
        for (transA, transB) in Self.transposes {
            let p = Problem(transA: transA, transB: transB, m: 19, n: 67, k: 301, seed: 7)
            let library = p.run(path: .oneDNN, bitsInput: false), fallback = p.run(path: .fallback, bitsInput: false)
            for i in 0..<p.m {
                for j in 0..<p.n {
                    let absolute = (0..<p.k).reduce(0.0) { $0 + abs(Double(p.aAt(i, $1)) * Double(p.bAt($1, j))) }
                    let bound = 2 * BF16GEMM.errorBound(k: p.k, absoluteProducts: 1.01 * absolute, inputsRounded: true)
                    #expect(abs(Double(library[i * p.ldc + j]) - Double(fallback[i * p.ldc + j])) <= bound)
                }
            }
        }
    }

    /// Automatic dispatch takes oneDNN exactly when its kernel runs on bf16 instructions, and the result is right.
    @Test func automaticPathFollowsTheCPU() {
        let p = Problem(transA: false, transB: true)
        let path = BF16GEMM.automaticPath(transA: false, transB: true, m: p.m, n: p.n, k: p.k, lda: p.lda, ldb: p.ldb, ldc: p.ldc)
        let implementation = BF16GEMM.libraryImplementation(transA: false, transB: true, m: p.m, n: p.n, k: p.k,
                                                            lda: p.lda, ldb: p.ldb, ldc: p.ldc)
        let native = implementation.map { $0.contains("bf16") || $0.contains("amx") } ?? false
        #expect(path == (native ? .oneDNN : .fallback), "oneDNN \(implementation ?? "none") on \(BF16GEMM.libraryISA)")
        _ = p.check(p.run(path: nil, bitsInput: false), "automatic \(path)")
    }

    @Test(arguments: paths)
    func emptyProductsOnlyScaleC(path: BF16GEMM.Path) {
        var c: [Float] = [1, -2, 3, 4, 5, 6]
        let none: [Float] = [0]
        BF16GEMM.gemm(m: 2, n: 3, k: 0, a: none, lda: 1, b: none, ldb: 3, beta: 0.5, c: &c, ldc: 3, path: path)
        #expect(c == [0.5, -1, 1.5, 2, 2.5, 3])
        c = [.nan, .nan, .nan]
        BF16GEMM.gemm(m: 1, n: 3, k: 0, a: none, lda: 1, b: none, ldb: 3, c: &c, ldc: 3, path: path)
        #expect(c == [0, 0, 0])
        BF16GEMM.gemm(m: 0, n: 3, k: 4, a: none, lda: 4, b: none, ldb: 3, c: &c, ldc: 3, path: path)
        #expect(c == [0, 0, 0])
    }

    @Test func misuseStopsNamingTheOpAndShapes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = [Float](repeating: 0, count: 12), b = [Float](repeating: 0, count: 20)
            var c = [Float](repeating: 0, count: 15)
            BF16GEMM.gemm(m: 3, n: 5, k: 4, a: a, lda: 3, b: b, ldb: 5, c: &c, ldc: 5)
        }
        let text = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(text.contains("[gemm_bf16] lda 3 is shorter than a row of A [M 3, K 4]"), "\(text)")
    }
}
