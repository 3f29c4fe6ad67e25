// Image resizing of the last two dimensions. Bilinear and bicubic resizes are linear maps, applied as two
// small matrix products (rows, then columns), so their gradients of any order come from matmul.

public enum ResizeMode: String, Sendable { case nearest, bilinear, bicubic }

/// Interpolation weights `[outSize, inSize]` along one axis (PyTorch conventions, align_corners=False).
func interpolationMatrix(from inSize: Int, to outSize: Int, mode: ResizeMode) -> [Double] {
    var m = [Double](repeating: 0, count: outSize * inSize)
    let scale = Double(inSize) / Double(outSize)
    for o in 0..<outSize {
        switch mode {
        case .nearest:
            m[o * inSize + min(Int((Double(o) * scale).rounded(.down)), inSize - 1)] = 1
        case .bilinear:
            let src = max((Double(o) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(src.rounded(.down)), inSize - 1), i1 = min(i0 + 1, inSize - 1)
            let t = src - Double(i0)
            m[o * inSize + i0] += 1 - t
            m[o * inSize + i1] += t
        case .bicubic:
            // Keys cubic with a = −0.75, borders clamped (as PyTorch's upsample_bicubic2d).
            let src = (Double(o) + 0.5) * scale - 0.5
            let f = src.rounded(.down), t = src - f
            let a = -0.75
            func w(_ x: Double) -> Double {
                let x = Swift.abs(x)
                if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                return 0
            }
            for k in -1...2 {
                let idx = min(max(Int(f) + k, 0), inSize - 1)
                m[o * inSize + idx] += w(Double(k) - t)
            }
        }
    }
    return m
}

extension Tensor {
    /// Resizes the last two dimensions to `height × width`.
    public func resized(height: Int, width: Int, mode: ResizeMode) -> Tensor {
        shapeCheck(rank >= 2 && height > 0 && width > 0, "resize", "cannot resize \(shape) to \(height)×\(width)")
        let h = shape[rank - 2], w = shape[rank - 1]
        if mode == .nearest {
            let rows = (0..<height).map { Swift.min(Int((Double($0) * Double(h) / Double(height)).rounded(.down)), h - 1) }
            let cols = (0..<width).map { Swift.min(Int((Double($0) * Double(w) / Double(width)).rounded(.down)), w - 1) }
            return indexSelect(axis: rank - 2, rows).indexSelect(axis: rank - 1, cols)
        }
        let mw = Tensor(shape: [width, w], values: interpolationMatrix(from: w, to: width, mode: mode), dtype: dtype)
        let mh = Tensor(shape: [height, h], values: interpolationMatrix(from: h, to: height, mode: mode), dtype: dtype)
        let x = matmul(mw, transB: true)                                   // [..., h, width]
        return x.transposed(-2, -1).matmul(mh, transB: true).transposed(-2, -1)  // [..., height, width]
    }
}
