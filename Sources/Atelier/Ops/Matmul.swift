// Matrix products on OpenBLAS (and oneDNN for large fp32 ones, `SGEMM`). Transposes are flags handed to GEMM, never copies; a batched left operand
// times a 2-d right operand folds the batch into the rows, so it is one GEMM. A float32 product may run in bf16
// (BF16GEMM): the operands are rounded to bf16 inside the GEMM call, the stored tensors (fp32 master weights
// included) stay fp32, and the gradient rule's products inherit the precision.
import COpenBLAS

/// The arithmetic of a float32 matmul. Float64 products (gradient checks) ignore it and run in float64.
public enum MatmulPrecision: String, Sendable, CaseIterable, Codable {
    /// fp32 operands, accumulation and result (OpenBLAS sgemm).
    case fp32
    /// bf16 operands (rounded to nearest even), fp32 accumulation and result: oneDNN on AMX / AVX512-BF16, else
    /// sgemm on the rounded operands (`BF16GEMM`).
    case bf16
}

struct MatmulOp: Op {
    let transA: Bool, transB: Bool
    /// A third input `[N]` added to every row of the result (GEMM with β = 1 over rows prefilled with it).
    var hasBias = false
    /// Scale of the product (GEMM's α), so `scale·A·B` costs no extra pass.
    var alpha: Double = 1
    var precision: MatmulPrecision = .fp32
    var name: String { "matmul" }

    func execute(_ c: KernelContext) {
        let a = c.inputShapes[0], b = c.inputShapes[1], out = c.outputShapes[0]
        let m = out[out.count - 2], n = out[out.count - 1]
        let k = transA ? a[a.count - 2] : a[a.count - 1]
        let batch = out.dropLast(2).reduce(1, *)
        let bBatched = b.count > 2
        let aBatched = a.count > 2
        // [batch·M, K] × [K, N] when the right side is shared and the left is not transposed.
        let fold = !bBatched && !transA
        let lda = transA ? m : k, ldb = transB ? k : n
        let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
        let strideA = aBatched ? m * k : 0, strideB = bBatched ? k * n : 0, strideC = m * n
        if m == 0 || n == 0 { return }
        // One fp32 product (folded, or a batch of one) goes to SGEMM, which picks the library and adds the bias.
        if c.dtype == .float32 && precision == .fp32 && (fold || batch == 1) {
            SGEMM.gemm(transA: transA, transB: transB, m: fold ? batch * m : m, n: n, k: k, alpha: Float(alpha),
                       a: c.inputs[0].pointer(as: Float.self), lda: lda, b: c.inputs[1].pointer(as: Float.self), ldb: ldb,
                       bias: hasBias ? UnsafePointer(c.inputs[2].pointer(as: Float.self)) : nil,
                       c: c.outputs[0].pointer(as: Float.self), ldc: n)
            return
        }
        let beta: Double = hasBias ? 1 : 0
        if hasBias {
            dispatch(c.dtype, { prefillRows(c.outputs[0].pointer(as: Float.self), c.inputs[2].pointer(as: Float.self), rows: batch * m, n: n) },
                              { prefillRows(c.outputs[0].pointer(as: Double.self), c.inputs[2].pointer(as: Double.self), rows: batch * m, n: n) })
        }
        switch c.dtype {
        case .float32:
            let pa = c.inputs[0].pointer(as: Float.self), pb = c.inputs[1].pointer(as: Float.self), pc = c.outputs[0].pointer(as: Float.self)
            if k == 0 { if !hasBias { fill(pc, batch * m * n, 0) }; return }
            if precision == .bf16 {
                let rows = fold ? batch * m : m
                func gemm(_ i: Int, threads: Int) {
                    BF16GEMM.gemm(transA: transA, transB: transB, m: rows, n: n, k: k, alpha: Float(alpha), a: pa + i * strideA,
                                  lda: lda, b: pb + i * strideB, ldb: ldb, beta: Float(beta), c: pc + i * strideC, ldc: n,
                                  threads: threads)
                }
                if fold { gemm(0, threads: Threading.count) } else { batched(batch, m: m, n: n, k: k, gemm) }
                return
            }
            // A folded or single fp32 product went to SGEMM above: here are batches of products.
            batched(batch, m: m, n: n, k: k) { i, threads in
                BLASThreads.run(threads: threads) {
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha), pa + i * strideA, Int32(lda),
                                pb + i * strideB, Int32(ldb), Float(beta), pc + i * strideC, Int32(n))
                }
            }
        case .float64:
            let pa = c.inputs[0].pointer(as: Double.self), pb = c.inputs[1].pointer(as: Double.self), pc = c.outputs[0].pointer(as: Double.self)
            if k == 0 { if !hasBias { fill(pc, batch * m * n, 0) }; return }
            if fold {
                BLASThreads.run(threads: Threading.count) {
                    cblas_dgemm(CblasRowMajor, ta, tb, Int32(batch * m), Int32(n), Int32(k), alpha, pa, Int32(lda), pb, Int32(ldb), beta, pc, Int32(n))
                }
                return
            }
            batched(batch, m: m, n: n, k: k) { i, threads in
                BLASThreads.run(threads: threads) {
                    cblas_dgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, pa + i * strideA, Int32(lda),
                                pb + i * strideB, Int32(ldb), beta, pc + i * strideC, Int32(n))
                }
            }
        }
    }

    /// Many small GEMMs run one per task with single-threaded BLAS; few large ones use BLAS's threads.
    /// `gemm(i, threads)` computes product i on `threads` threads (1 inside a slice).
    private func batched(_ batch: Int, m: Int, n: Int, k: Int, _ gemm: (Int, Int) -> Void) {
        let threads = Threading.count
        // Many products (attention heads × batch) parallelise better across products than inside each one. One
        // lease for single-threaded OpenBLAS covers all the slices (see BLASThreads).
        if threads > 1 && batch >= threads && (batch >= 4 * threads || m * n * k <= 1 << 22) {
            BLASThreads.hold(threads: 1) {
                parallelFor(batch) { r in for i in r { gemm(i, 1) } }
            }
        } else {
            for i in 0..<batch { gemm(i, threads) }
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let a = c.inputs[0], b = c.inputs[1], g = c.grad, s = alpha, p = precision, shared = b.rank == 2
        // C = α·op(A)·op(B); each case is the product rule with the transposes moved into flags. The backward
        // products run in the forward's precision (bf16 rounds the cotangent too, as mixed-precision training does).
        var da: Tensor, db: Tensor
        switch (transA, transB) {
        case (false, false): da = g.matmul(b, transB: true, alpha: s, precision: p); db = a.matmul(g, transA: true, alpha: s, precision: p, reduceBatch: shared)
        case (true, false): da = b.matmul(g, transB: true, alpha: s, precision: p); db = a.matmul(g, alpha: s, precision: p, reduceBatch: shared)
        case (false, true): da = g.matmul(b, alpha: s, precision: p); db = g.matmul(a, transA: true, alpha: s, precision: p, reduceBatch: shared)
        case (true, true): da = b.matmul(g, transA: true, transB: true, alpha: s, precision: p); db = g.matmul(a, transA: true, transB: true, alpha: s, precision: p, reduceBatch: shared)
        }
        if da.shape != a.shape { da = da.sum(toShape: a.shape) }
        if hasBias { return [da, db, g.sum(toShape: c.inputs[2].shape)] }
        return [da, db]
    }
}

/// Copies `bias` [n] into each of `rows` rows.
private func prefillRows<T>(_ c: UnsafeMutablePointer<T>, _ bias: UnsafeMutablePointer<T>, rows: Int, n: Int) {
    parallelFor(rows, grain: max(1, 16384 / max(n, 1))) { r in
        for i in r { (c + i * n).update(from: bias, count: n) }
    }
}

extension Tensor {
    /// Matrix product of the last two dimensions, `op(self) · op(other)`.
    ///
    /// `self` is `[..., M, K]` (`[..., K, M]` if `transA`), `other` is `[K, N]` or `[..., K, N]` with the same
    /// batch dimensions (`[..., N, K]` if `transB`). Result `[..., M, N]`. `precision` applies to float32.
    public func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false, precision: MatmulPrecision = .fp32) -> Tensor {
        matmul(other, transA: transA, transB: transB, alpha: 1, precision: precision, reduceBatch: false)
    }

    /// `alpha · op(self) · op(other)` with the scale applied inside the GEMM.
    public func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false, alpha: Double,
                       precision: MatmulPrecision = .fp32) -> Tensor {
        matmul(other, transA: transA, transB: transB, alpha: alpha, precision: precision, reduceBatch: false)
    }

    /// With `reduceBatch`, the batch dimensions of two batched operands are summed away (a weight gradient
    /// of a shared right operand) — done as one GEMM when possible.
    func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false, alpha: Double = 1,
                precision: MatmulPrecision = .fp32, reduceBatch: Bool) -> Tensor {
        shapeCheck(dtype == other.dtype, "matmul", "dtypes differ: \(dtype) vs \(other.dtype)")
        shapeCheck(rank >= 2 && other.rank >= 2, "matmul", "operands must be at least 2-d: \(shape) × \(other.shape)")
        if reduceBatch && rank > 2 {
            // Σ_batch op(A_i)ᵀ-style products: fold the batch into K when the batch runs along rows.
            if transA {
                // A_i is [K, M] ... rows of A are the contraction: stack batches along K.
                let a2 = reshaped([-1, shape[rank - 1]])
                let b2 = other.reshaped([-1, other.shape[other.rank - 1]])
                if !transB { return a2.matmul(b2, transA: true, alpha: alpha, precision: precision) }
            }
            let full = matmul(other, transA: transA, transB: transB, alpha: alpha, precision: precision)
            return full.reshaped([-1] + full.shape.suffix(2)).sum(axes: [0])
        }
        let m = transA ? shape[rank - 1] : shape[rank - 2]
        let k = transA ? shape[rank - 2] : shape[rank - 1]
        let k2 = transB ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = transB ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        shapeCheck(k == k2, "matmul", "inner dimensions differ: \(shape)\(transA ? "ᵀ" : "") × \(other.shape)\(transB ? "ᵀ" : "")")
        var batch = Array(shape.dropLast(2))
        if other.rank > 2 {
            let ob = Array(other.shape.dropLast(2))
            if rank == 2 {
                // Shared left operand: broadcast it (rare; used by a few gradient rules).
                return expanded(to: ob + shape).matmul(other, transA: transA, transB: transB, alpha: alpha, precision: precision)
            }
            shapeCheck(ob == batch, "matmul", "batch dimensions differ: \(shape) × \(other.shape)")
            batch = ob
        }
        return Tensor.make(MatmulOp(transA: transA, transB: transB, alpha: alpha, precision: precision), [self, other],
                           shape: batch + [m, n], dtype: dtype)
    }

    /// `x · Wᵀ + b` with `W` `[out, in]` (PyTorch's Linear layout); `precision` as in `matmul`.
    public func linear(weight: Tensor, bias: Tensor? = nil, precision: MatmulPrecision = .fp32) -> Tensor {
        guard let bias else { return matmul(weight, transB: true, precision: precision) }
        shapeCheck(rank >= 2 && weight.rank == 2 && shape.last == weight.shape[1], "linear", "input \(shape) for weight \(weight.shape)")
        shapeCheck(bias.shape == [weight.shape[0]] && bias.dtype == dtype, "linear", "bias \(bias.shape) for weight \(weight.shape)")
        // The bias rides in the GEMM (β = 1 over prefilled rows) instead of a separate broadcast pass.
        return Tensor.make(MatmulOp(transA: false, transB: true, hasBias: true, precision: precision), [self, weight, bias],
                           shape: Array(shape.dropLast()) + [weight.shape[0]], dtype: dtype)
    }
}
