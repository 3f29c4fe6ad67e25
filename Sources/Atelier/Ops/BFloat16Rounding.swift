// Bulk fp32 ↔ bfloat16 conversion of matrices for the bf16 GEMM. Rounding is `Float.bfloat16Bits`
// (HalfPrecision.swift: nearest, ties to even, NaN kept), the same rule the checkpoints use, so every GEMM path
// sees the same bf16 inputs. Strided sources are packed (leading dimension = columns).

public enum BFloat16 {
    /// `bits[r·cols + c]` = the nearest bfloat16 of `values[r·ld + c]`, for a `[rows, cols]` matrix.
    /// Parallel over rows when `threads` > 1 (pass 1 from inside a `parallelFor` slice).
    public static func round(_ values: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                             into bits: UnsafeMutablePointer<UInt16>, threads: Int = Threading.count) {
        forRows(rows, cols: cols, threads: threads) { r in
            let src = values + r * ld, dst = bits + r * cols
            for c in 0..<cols { dst[c] = src[c].bfloat16Bits }
        }
    }

    /// `out[r·cols + c]` = `values[r·ld + c]` rounded to the nearest bfloat16 and kept as fp32 (exact), so fp32
    /// GEMM on `out` multiplies exactly the operands a bf16 GEMM would.
    public static func roundToFloat(_ values: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                    into out: UnsafeMutablePointer<Float>, threads: Int = Threading.count) {
        forRows(rows, cols: cols, threads: threads) { r in
            let src = values + r * ld, dst = out + r * cols
            for c in 0..<cols { dst[c] = Float(bfloat16Bits: src[c].bfloat16Bits) }
        }
    }

    /// `out[r·cols + c]` = the bfloat16 `bits[r·ld + c]` as fp32 (exact).
    public static func widen(_ bits: UnsafePointer<UInt16>, rows: Int, cols: Int, ld: Int,
                             into out: UnsafeMutablePointer<Float>, threads: Int = Threading.count) {
        forRows(rows, cols: cols, threads: threads) { r in
            let src = bits + r * ld, dst = out + r * cols
            for c in 0..<cols { dst[c] = Float(bfloat16Bits: src[c]) }
        }
    }

    /// Rows in slices of at least 64 Ki elements, so small matrices stay on the calling thread.
    private static func forRows(_ rows: Int, cols: Int, threads: Int, _ body: (Int) -> Void) {
        guard rows > 0 && cols > 0 else { return }
        if threads <= 1 {
            for r in 0..<rows { body(r) }
            return
        }
        parallelFor(rows, grain: max(1, 65_536 / cols)) { range in for r in range { body(r) } }
    }
}
