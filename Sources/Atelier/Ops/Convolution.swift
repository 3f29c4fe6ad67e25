// Convolution as im2col + one GEMM. im2col and col2im are each other's adjoint (and gradient), so conv's
// gradients of every order are built from the same three pieces: im2col, col2im, matmul.
import CKernels

/// Geometry of a 2-d sliding window over NCHW images.
public struct ConvGeometry: Sendable, Equatable {
    public var kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }
    /// Kernel, stride, padding and dilation as the C kernels take them.
    var args: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) {
        (Int64(kernel.0), Int64(kernel.1), Int64(stride.0), Int64(stride.1), Int64(padding.0), Int64(padding.1), Int64(dilation.0), Int64(dilation.1))
    }
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.0 - dilation.0 * (kernel.0 - 1) - 1) / stride.0 + 1,
         (w + 2 * padding.1 - dilation.1 * (kernel.1 - 1) - 1) / stride.1 + 1)
    }
}

/// Runs im2col (`toColumns`) or col2im over every image of a [B, C, H, W] batch, one image per task: each
/// task owns its image's column range and its image's pixels, so no two tasks write one element.
private func imageColumns(_ g: ConvGeometry, imageShape s: [Int], image: Buffer, columns: Buffer, dtype: DType, toColumns: Bool) {
    let (b, ch, h, w) = (s[0], s[1], s[2], s[3])
    let (oh, ow) = g.outputSize(h, w)
    let l = oh * ow, ld = Int64(b * l), plane = ch * h * w
    let a = g.args
    let (c64, h64, w64) = (Int64(ch), Int64(h), Int64(w))
    parallelFor(b) { r in
        for n in r {
            switch (dtype, toColumns) {
            case (.float32, true):
                ck_im2col_f32(columns.pointer(as: Float.self) + n * l, ld, image.pointer(as: Float.self) + n * plane,
                              c64, h64, w64, a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7)
            case (.float32, false):
                ck_col2im_f32(image.pointer(as: Float.self) + n * plane, columns.pointer(as: Float.self) + n * l, ld,
                              c64, h64, w64, a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7)
            case (.float64, true):
                ck_im2col_f64(columns.pointer(as: Double.self) + n * l, ld, image.pointer(as: Double.self) + n * plane,
                              c64, h64, w64, a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7)
            case (.float64, false):
                ck_col2im_f64(image.pointer(as: Double.self) + n * plane, columns.pointer(as: Double.self) + n * l, ld,
                              c64, h64, w64, a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7)
            }
        }
    }
}

/// [B, C, H, W] → columns [C·KH·KW, B·OH·OW].
struct Im2colOp: Op {
    let g: ConvGeometry
    var name: String { "im2col" }
    func execute(_ c: KernelContext) {
        imageColumns(g, imageShape: c.inputShapes[0], image: c.inputs[0], columns: c.outputs[0], dtype: c.dtype, toColumns: true)
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(Col2imOp(g: g), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// Columns [C·KH·KW, B·OH·OW] → [B, C, H, W], summing every column entry that reads a pixel.
struct Col2imOp: Op {
    let g: ConvGeometry
    var name: String { "col2im" }
    func execute(_ c: KernelContext) {
        imageColumns(g, imageShape: c.outputShapes[0], image: c.outputs[0], columns: c.inputs[0], dtype: c.dtype, toColumns: false)
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(Im2colOp(g: g), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

extension Tensor {
    /// Sliding-window columns of an NCHW image batch: `[C·KH·KW, B·OH·OW]`.
    public func im2col(_ g: ConvGeometry) -> Tensor {
        shapeCheck(rank == 4, "im2col", "expects [B, C, H, W], got \(shape)")
        let (oh, ow) = g.outputSize(shape[2], shape[3])
        shapeCheck(oh > 0 && ow > 0, "im2col", "window \(g.kernel) with padding \(g.padding) does not fit input \(shape)")
        return Tensor.make(Im2colOp(g: g), [self], shape: [shape[1] * g.kernel.0 * g.kernel.1, shape[0] * oh * ow], dtype: dtype)
    }

    /// 2-d convolution (cross-correlation, as PyTorch): input `[B, C, H, W]`, weight `[O, C, KH, KW]`,
    /// bias `[O]`; output `[B, O, OH, OW]`. `precision` is the GEMM's, as in `matmul`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       precision: MatmulPrecision = .fp32) -> Tensor {
        shapeCheck(rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1], "conv2d",
                   "input \(shape) and weight \(weight.shape) do not match ([B, C, H, W] and [O, C, KH, KW])")
        let g = ConvGeometry(kernel: (weight.shape[2], weight.shape[3]), stride: (stride, stride),
                             padding: (padding, padding), dilation: (dilation, dilation))
        let (oh, ow) = g.outputSize(shape[2], shape[3])
        let o = weight.shape[0], b = shape[0]
        let cols = im2col(g)                                                   // [C·KH·KW, B·L]
        let y = weight.reshaped([o, -1]).matmul(cols, precision: precision)     // [O, B·L]
            .reshaped([o, b, oh, ow]).permuted([1, 0, 2, 3])                   // [B, O, OH, OW]
        guard let bias else { return y }
        shapeCheck(bias.shape == [o], "conv2d", "bias \(bias.shape) for \(o) output channels")
        return y + bias.reshaped([1, o, 1, 1])
    }

    /// Average pooling with a square window (no padding counted).
    public func avgPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        let s = stride ?? kernel
        shapeCheck(rank == 4, "avgPool2d", "expects [B, C, H, W], got \(shape)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        if s == kernel && h % kernel == 0 && w % kernel == 0 {
            return reshaped([b, c, h / kernel, kernel, w / kernel, kernel]).mean(axes: [3, 5])
        }
        let g = ConvGeometry(kernel: (kernel, kernel), stride: (s, s), padding: (0, 0), dilation: (1, 1))
        let (oh, ow) = g.outputSize(h, w)
        return reshaped([b * c, 1, h, w]).im2col(g).mean(axes: [0]).reshaped([b, c, oh, ow])
    }

    /// Pixel shuffle: `[B, C·r², H, W]` → `[B, C, H·r, W·r]`, out[c, h·r+i, w·r+j] = in[c·r²+i·r+j, h, w].
    public func pixelShuffle(_ r: Int) -> Tensor {
        shapeCheck(rank == 4 && shape[1] % (r * r) == 0, "pixelShuffle", "input \(shape) channels not divisible by \(r * r)")
        let (b, c, h, w) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        return reshaped([b, c, r, r, h, w]).permuted([0, 1, 4, 2, 5, 3]).reshaped([b, c, h * r, w * r])
    }

    /// Inverse of `pixelShuffle`.
    public func pixelUnshuffle(_ r: Int) -> Tensor {
        shapeCheck(rank == 4 && shape[2] % r == 0 && shape[3] % r == 0, "pixelUnshuffle", "input \(shape) not divisible by \(r)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2] / r, shape[3] / r)
        return reshaped([b, c, h, r, w, r]).permuted([0, 1, 3, 5, 2, 4]).reshaped([b, c * r * r, h, w])
    }

    /// Reflection padding of the last two dimensions by `p` (PyTorch ReflectionPad2d).
    public func reflectionPadded2d(_ p: Int) -> Tensor {
        shapeCheck(rank >= 2 && shape[rank - 1] > p && shape[rank - 2] > p, "reflectionPad2d", "padding \(p) too large for \(shape)")
        shapeCheck(p >= 0, "reflectionPad2d", "negative padding \(p)")
        if p == 0 { return self }
        return Tensor.make(ReflectionPadOp(padding: p), [self],
                           shape: Array(shape.dropLast(2)) + [shape[rank - 2] + 2 * p, shape[rank - 1] + 2 * p], dtype: dtype)
    }
}
