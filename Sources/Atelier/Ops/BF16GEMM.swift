// The bf16 GEMM: C = α·op(A)·op(B) + β·C with bfloat16 A and B, fp32 accumulation and an fp32 C, row-major.
// The path is chosen per shape at run time, never at build time:
//  - oneDNN's matmul when its kernel for the shape runs on the CPU's bf16 instructions (AMX, AVX512-BF16);
//  - otherwise OpenBLAS sgemm on the same bf16 values widened to fp32 (exact), so a CPU without them
//    (AVX2-only, or AVX-512 without BF16) multiplies the same operands and agrees to fp32 accumulation error.
import COpenBLAS

public enum BF16GEMM {
    public enum Path: String, CaseIterable, Sendable {
        /// oneDNN's matmul primitive (bf16 inputs, fp32 accumulation).
        case oneDNN = "onednn"
        /// OpenBLAS sgemm on bf16-rounded fp32 inputs.
        case fallback
    }

    /// The path a call with `path: nil` takes for this shape: oneDNN if its kernel uses bf16 instructions.
    public static func automaticPath(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                     lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, beta: Float = 0) -> Path {
        automaticPath(checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta))
    }

    /// oneDNN's kernel name for the shape (e.g. `brg:avx512_core_bf16`), nil where it has none (AVX2-only CPUs).
    public static func libraryImplementation(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                             lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, beta: Float = 0) -> String? {
        OneDNNMatmul.primitive(for: checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta), threads: Threading.count)?.implementation
    }

    /// The instruction set oneDNN uses on this CPU (honours `ONEDNN_MAX_CPU_ISA`), e.g. `avx512_core_bf16`.
    public static var libraryISA: String { OneDNNMatmul.effectiveISA }

    /// `C = α·op(A)·op(B) + β·C` on bfloat16 bits.
    ///
    /// `op(A)` is `[M, K]`, stored `[M, K]` (or `[K, M]` if `transA`) with leading dimension `lda`; `op(B)` is
    /// `[K, N]`, stored `[K, N]` (or `[N, K]` if `transB`) with `ldb`; `C` is `[M, N]` with `ldc`. As in BLAS,
    /// `C` is not read when `β = 0`.
    /// - Parameters:
    ///   - path: nil chooses at run time (`automaticPath`); `.oneDNN` requires `libraryImplementation` non-nil.
    ///   - threads: the thread count of oneDNN, the conversions and the fallback's sgemm (1 inside a
    ///     `parallelFor` slice).
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int, beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int, path: Path? = nil, threads: Int = Threading.count) {
        let shape = checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta)
        if trivial(shape, c) { return }
        switch path ?? automaticPath(shape) {
        case .oneDNN:
            library(shape, threads: threads).execute(a: a, b: b, c: c, threads: threads)
        case .fallback:
            let (aRows, aCols, bRows, bCols) = storedSizes(shape)
            let bufferA = scratch(aRows * aCols, Float.self), bufferB = scratch(bRows * bCols, Float.self)
            let wideA = bufferA.pointer(as: Float.self), wideB = bufferB.pointer(as: Float.self)
            BFloat16.widen(a, rows: aRows, cols: aCols, ld: lda, into: wideA, threads: threads)
            BFloat16.widen(b, rows: bRows, cols: bCols, ld: ldb, into: wideB, threads: threads)
            withExtendedLifetime((bufferA, bufferB)) { sgemm(shape, wideA, aCols, wideB, bCols, c, threads: threads) }
        }
    }

    /// `C = α·op(A)·op(B) + β·C` with fp32 `A` and `B` rounded to bfloat16 (nearest, ties to even) first;
    /// shapes and parameters as in the bf16 overload.
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int, path: Path? = nil, threads: Int = Threading.count) {
        let shape = checkedShape(transA, transB, m, n, k, lda, ldb, ldc, alpha, beta)
        if trivial(shape, c) { return }
        let (aRows, aCols, bRows, bCols) = storedSizes(shape)
        switch path ?? automaticPath(shape) {
        case .oneDNN:
            let bufferA = scratch(aRows * aCols, UInt16.self), bufferB = scratch(bRows * bCols, UInt16.self)
            let bitsA = bufferA.pointer(as: UInt16.self), bitsB = bufferB.pointer(as: UInt16.self)
            BFloat16.round(a, rows: aRows, cols: aCols, ld: lda, into: bitsA, threads: threads)
            BFloat16.round(b, rows: bRows, cols: bCols, ld: ldb, into: bitsB, threads: threads)
            var packed = shape
            (packed.lda, packed.ldb) = (aCols, bCols)
            withExtendedLifetime((bufferA, bufferB)) { library(packed, threads: threads).execute(a: bitsA, b: bitsB, c: c, threads: threads) }
        case .fallback:
            let bufferA = scratch(aRows * aCols, Float.self), bufferB = scratch(bRows * bCols, Float.self)
            let roundedA = bufferA.pointer(as: Float.self), roundedB = bufferB.pointer(as: Float.self)
            BFloat16.roundToFloat(a, rows: aRows, cols: aCols, ld: lda, into: roundedA, threads: threads)
            BFloat16.roundToFloat(b, rows: bRows, cols: bCols, ld: ldb, into: roundedB, threads: threads)
            withExtendedLifetime((bufferA, bufferB)) { sgemm(shape, roundedA, aCols, roundedB, bCols, c, threads: threads) }
        }
    }

    // MARK: - Accuracy

    /// Unit roundoff of bfloat16: 8 significant bits (7 stored), so rounding to nearest moves a value by at most
    /// 2⁻⁸ of itself.
    public static let inputRoundoff = 0x1p-8

    /// A bound on |C − C_exact| for one entry, C_exact the float64 result on the unrounded fp32 inputs.
    ///
    /// Each input is rounded once, bf(x) = x(1 + δ) with |δ| ≤ u = 2⁻⁸, so a product moves by at most
    /// (2u + u²)|a||b|. A product of two bf16 values is exact in fp32 (16 significant bits), and summing k of
    /// them in fp32, in any order, with or without FMA, adds at most γ_k = k·2⁻²⁴/(1 − k·2⁻²⁴) of their absolute
    /// sum, so with S = Σ_l |a_il||b_lj| the product P is within e·S, e = (2u + u²) + γ_k(1 + 2u + u²). Forming
    /// α·P + β·C costs at most three more fp32 roundings, each of a value below 2(|α|S + |β||C|).
    /// Subnormal products, which bf16 instructions flush to zero, are outside the bound.
    /// - Parameters:
    ///   - absoluteProducts: S of the fp32 inputs.
    ///   - inputsRounded: C_exact is computed from the bf16-rounded inputs (drops the 2u + u² term): what
    ///     checks the accumulation alone.
    public static func errorBound(k: Int, absoluteProducts: Double, alpha: Double = 1, beta: Double = 0,
                                  absoluteC: Double = 0, inputsRounded: Bool = false) -> Double {
        let u = inputRoundoff, u32 = 0x1p-24
        let rounding = inputsRounded ? 0 : 2 * u + u * u
        let gamma = Double(k) * u32 / (1 - Double(k) * u32)
        let e = rounding + gamma * (1 + rounding)
        return abs(alpha) * e * absoluteProducts + 6 * u32 * (abs(alpha) * absoluteProducts + abs(beta) * absoluteC)
    }

    // MARK: - Helpers

    private static func checkedShape(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ lda: Int, _ ldb: Int,
                                     _ ldc: Int, _ alpha: Float, _ beta: Float) -> OneDNNMatmul.Shape {
        OneDNNMatmul.Shape(checking: "gemm_bf16", inputs: .bf16, transA: transA, transB: transB, m: m, n: n, k: k,
                           lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta)
    }

    private static func automaticPath(_ shape: OneDNNMatmul.Shape) -> Path {
        OneDNNMatmul.primitive(for: shape, threads: Threading.count)?.usesBF16Instructions == true ? .oneDNN : .fallback
    }

    private static func library(_ shape: OneDNNMatmul.Shape, threads: Int) -> OneDNNMatmul {
        guard let primitive = OneDNNMatmul.primitive(for: shape, threads: threads) else {
            fatalError("[gemm_bf16] oneDNN has no bf16 matmul for M \(shape.m), N \(shape.n), K \(shape.k) on this CPU (\(libraryISA)); check libraryImplementation first")
        }
        return primitive
    }

    /// Empty products need no kernel (and oneDNN rejects K = 0): C is only scaled by β.
    private static func trivial(_ s: OneDNNMatmul.Shape, _ c: UnsafeMutablePointer<Float>) -> Bool {
        if s.m == 0 || s.n == 0 { return true }
        guard s.k == 0 else { return false }
        for i in 0..<s.m {
            let row = c + i * s.ldc
            for j in 0..<s.n { row[j] = s.beta == 0 ? 0 : s.beta * row[j] }
        }
        return true
    }

    /// Rows and columns of A and B as stored (before the transposes).
    private static func storedSizes(_ s: OneDNNMatmul.Shape) -> (Int, Int, Int, Int) {
        (s.transA ? s.k : s.m, s.transA ? s.m : s.k, s.transB ? s.n : s.k, s.transB ? s.k : s.n)
    }

    private static func sgemm(_ s: OneDNNMatmul.Shape, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                              _ ldb: Int, _ c: UnsafeMutablePointer<Float>, threads: Int) {
        BLASThreads.run(threads: threads) {
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans,
                        Int32(s.m), Int32(s.n), Int32(s.k), s.alpha, a, Int32(lda), b, Int32(ldb), s.beta, c, Int32(s.ldc))
        }
    }
}

/// A temporary operand copy from the tensors' memory pool: recycled, so repeated GEMMs of one shape do not fault
/// in fresh pages every call (allocating them anew made the fallback 1.6× slower at M = 8192).
private func scratch<T>(_ count: Int, _: T.Type) -> Buffer { Buffer(byteCount: count * MemoryLayout<T>.stride) }
