// The fp32 GEMM: C = α·op(A)·op(B) (+ a bias row) + β·C, row-major. Two libraries can do it, chosen per call at
// run time, never at build time:
//  - oneDNN's matmul primitive, for products large enough to amortise its per-call set-up, where oneDNN has a JIT
//    brgemm kernel for this CPU (`brg:avx512_core` and up). On the Zen 4 the Paint Transformer's FFN products ran
//    at 190–207 GFLOP/s there against 145–182 for OpenBLAS 0.3.21's SkylakeX sgemm (bare C, interleaved), and it
//    takes the bias as an operand, so a linear layer needs no prefill pass;
//  - OpenBLAS sgemm otherwise (small products, batched heads inside parallel slices, CPUs without a brgemm kernel).
// Both accumulate in fp32 in their own order, so results agree to rounding, not bitwise; each is deterministic for
// a given shape and thread count.
import COpenBLAS
import Foundation

public enum SGEMM {
    public enum Path: String, CaseIterable, Sendable {
        /// oneDNN's matmul primitive (fp32 in, fp32 accumulation).
        case oneDNN = "onednn"
        /// OpenBLAS `cblas_sgemm`.
        case openBLAS = "openblas"
    }

    /// Work (M·N·K) from which oneDNN is chosen. Below it a call's fixed cost (memory descriptors, a stream, the
    /// OpenMP fork) is not repaid: the Paint step was fastest with the products of a [512, 256] × [256, 256]
    /// (3.4·10⁷) and larger on oneDNN.
    public static let libraryMinimumWork = 1 << 25

    /// The path a call with `path: nil` takes: `ExecutionContext.sgemmPath` if set, else oneDNN for products of
    /// at least `libraryMinimumWork` where its kernel for the shape is a brgemm JIT kernel.
    public static func automaticPath(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                     lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, beta: Float = 0, bias: Bool = false) -> Path {
        automaticPath(checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta, bias))
    }

    /// oneDNN's kernel name for the shape (e.g. `brg:avx512_core`), nil where it has none.
    public static func libraryImplementation(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                             lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, beta: Float = 0, bias: Bool = false) -> String? {
        OneDNNMatmul.primitive(for: checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta, bias),
                               threads: Threading.count)?.implementation
    }

    /// `C = α·op(A)·op(B) + bias + β·C` on fp32.
    ///
    /// `op(A)` is `[M, K]`, stored `[M, K]` (or `[K, M]` if `transA`) with leading dimension `lda`; `op(B)` is
    /// `[K, N]`, stored `[K, N]` (or `[N, K]` if `transB`) with `ldb`; `C` is `[M, N]` with `ldc`; `bias`, if
    /// given, is `[N]`, added to every row. As in BLAS, `C` is not read when `β = 0`.
    /// - Parameters:
    ///   - path: nil chooses at run time (`automaticPath`); `.oneDNN` requires `libraryImplementation` non-nil.
    ///   - threads: the thread count of either library and of the bias prefill (1 inside a `parallelFor` slice).
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, bias: UnsafePointer<Float>? = nil,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, path: Path? = nil, threads: Int = Threading.count) {
        let shape = checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta, bias != nil)
        if shape.m == 0 || shape.n == 0 { return }
        switch path ?? automaticPath(shape) {
        case .oneDNN where shape.k > 0:
            guard let primitive = OneDNNMatmul.primitive(for: shape, threads: threads) else {
                fatalError("[gemm_f32] oneDNN has no fp32 matmul for M \(m), N \(n), K \(k) on this CPU; check libraryImplementation first")
            }
            primitive.execute(a: a, b: b, bias: bias, c: c, threads: threads)
        default:
            // β·C first, then the bias, then the product on top with β = 1 (oneDNN's order: bias, then β·C).
            var betaForBLAS = beta
            if let bias {
                if beta == 0 {
                    eachRow(m, n: n, threads: threads) { i in (c + i * ldc).update(from: bias, count: n) }
                } else {
                    scaleRows(c, m: m, n: n, ldc: ldc, beta: beta, threads: threads)
                    addRows(c, bias, m: m, n: n, ldc: ldc, threads: threads)
                }
                betaForBLAS = 1
            }
            if k == 0 {
                if bias == nil { scaleRows(c, m: m, n: n, ldc: ldc, beta: beta, threads: threads) }
                return
            }
            BLASThreads.run(threads: threads) {
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), betaForBLAS, c, Int32(ldc))
            }
        }
    }

    // MARK: - Helpers

    private static func checkedShape(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ lda: Int, _ ldb: Int,
                                     _ ldc: Int, _ alpha: Float, _ beta: Float, _ bias: Bool) -> OneDNNMatmul.Shape {
        OneDNNMatmul.Shape(checking: "gemm_f32", inputs: .f32, bias: bias, transA: transA, transB: transB, m: m, n: n, k: k,
                           lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta)
    }

    private static func automaticPath(_ shape: OneDNNMatmul.Shape) -> Path {
        if let forced = ExecutionContext.current.sgemmPath { return forced }
        // oneDNN scales the bias with α (output scales apply to the whole result): only α = 1 goes there with one.
        guard shape.m * shape.n * shape.k >= libraryMinimumWork, shape.k > 0, !(shape.bias && shape.alpha != 1) else { return .openBLAS }
        let implementation = OneDNNMatmul.primitive(for: shape, threads: Threading.count)?.implementation
        return implementation?.hasPrefix("brg:") == true ? .oneDNN : .openBLAS
    }

    private static func scaleRows(_ c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int, beta: Float, threads: Int) {
        guard beta != 1 else { return }
        eachRow(m, n: n, threads: threads) { i in
            let row = c + i * ldc
            if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
        }
    }

    private static func addRows(_ c: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, m: Int, n: Int, ldc: Int, threads: Int) {
        eachRow(m, n: n, threads: threads) { i in
            let row = c + i * ldc
            for j in 0..<n { row[j] += bias[j] }
        }
    }

    private static func eachRow(_ m: Int, n: Int, threads: Int, _ body: (Int) -> Void) {
        if threads <= 1 || m * n < 1 << 16 { for i in 0..<m { body(i) }; return }
        parallelFor(m, grain: max(1, 16384 / max(n, 1))) { r in for i in r { body(i) } }
    }
}
