// The argument checks both GEMM entry points (BF16GEMM, SGEMM) make before touching memory: programmer misuse stops
// at once, naming the op and the operands' shapes.
extension OneDNNMatmul.Shape {
    init(checking op: String, inputs: Inputs, bias: Bool = false, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
         lda: Int, ldb: Int, ldc: Int, alpha: Float, beta: Float) {
        let a = transA ? "A [K \(k), M \(m)]" : "A [M \(m), K \(k)]", b = transB ? "B [N \(n), K \(k)]" : "B [K \(k), N \(n)]"
        shapeCheck(m >= 0 && n >= 0 && k >= 0, op, "negative size: M \(m), N \(n), K \(k)")
        shapeCheck(lda >= max(1, transA ? m : k), op, "lda \(lda) is shorter than a row of \(a)")
        shapeCheck(ldb >= max(1, transB ? k : n), op, "ldb \(ldb) is shorter than a row of \(b)")
        shapeCheck(ldc >= max(1, n), op, "ldc \(ldc) is shorter than a row of C [M \(m), N \(n)]")
        // OpenBLAS takes 32-bit sizes.
        shapeCheck([m, n, k, lda, ldb, ldc].allSatisfy { $0 <= Int(Int32.max) }, op, "sizes beyond 32 bits: \(a) × \(b)")
        self.init(inputs: inputs, bias: bias, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                  alpha: alpha, beta: beta)
    }
}
