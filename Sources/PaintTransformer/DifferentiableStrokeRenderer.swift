import Atelier

// The parameter-free differentiable stroke renderer on the engine (reference §2, Huage001 train `param2stroke`):
// stroke shapes (x, y, w, h, θ) → the reference's 2×3 inverse affine matrix → affine grid → bilinear sampling of
// the one-channel brush (a batch-1 texture shared by every stroke) and of its thresholded mask (so the training
// alpha is soft at the edges) → colour multiplied afterwards (warp(c·brush) = c·warp(brush): bilinear sampling is
// linear) → 3×3 dilation of the foreground, 3×3 erosion of the alpha → over-compositing in query order with the
// decisions. Gradients reach x, y, w, h, θ through the grid, and the colour through the product.
//
// Brush choice is the reference's discrete rule (vertical grain iff h > w): both brushes are sampled and one is
// kept per stroke with a 0/1 mask, so no gradient flows through the choice. Only output-sized tensors are made
// per stroke ([N, 2, H, W] per brush), never a brush-sized one.

/// Renders strokes as engine tensors so that losses on the picture can be differentiated.
public struct DifferentiableStrokeRenderer: @unchecked Sendable {
    /// The textures (vertical grain for h > w, horizontal otherwise).
    public let brushes: BrushSet
    /// [1, 2, Hb, Wb] float32: channel 0 the brush, channel 1 its mask `brush > 0`.
    private let vertical32: Tensor
    private let horizontal32: Tensor

    /// Creates a renderer for `brushes`; the textures become shared float32 leaves once, here.
    public init(brushes: BrushSet = .oilPaint()) {
        self.brushes = brushes
        vertical32 = Self.textureTensor(brushes.vertical, dtype: .float32)
        horizontal32 = Self.textureTensor(brushes.horizontal, dtype: .float32)
    }

    /// Brush and thresholded mask as the two channels of one batch-1 image, [1, 2, Hb, Wb].
    static func textureTensor(_ brush: Brush, dtype: DType) -> Tensor {
        var values = [Double](repeating: 0, count: 2 * brush.pixels.count)
        for (i, v) in brush.pixels.enumerated() {
            values[i] = Double(v)
            values[brush.pixels.count + i] = v > 0 ? 1 : 0
        }
        return Tensor(shape: [1, 2, brush.height, brush.width], values: values, dtype: dtype)
    }

    private func textures(_ dtype: DType) -> (vertical: Tensor, horizontal: Tensor) {
        switch dtype {
        case .float32: (vertical32, horizontal32)
        case .float64:
            (Self.textureTensor(brushes.vertical, dtype: .float64), Self.textureTensor(brushes.horizontal, dtype: .float64))
        }
    }

    /// The reference's inverse affine matrices for `affineGrid` (align_corners = false), [N, 2, 3]:
    ///
    ///     ( c/w,          s·H/(W·w),  (1−2x)·c/w + (1−2y)·s·H/(W·w) )
    ///     ( −s·W/(H·h),   c/h,        (1−2y)·c/h − (1−2x)·s·W/(H·h) )
    ///
    /// with c = cos πθ, s = sin πθ.
    /// - Parameters:
    ///   - shapes: [N, 5] (x, y, w, h, θ) in window-normalised units.
    ///   - height: output height H in pixels.
    ///   - width: output width W in pixels.
    public static func affineMatrices(_ shapes: Tensor, height: Int, width: Int) -> Tensor {
        shapeCheck(shapes.rank == 2 && shapes.shape[1] == 5, "DifferentiableStrokeRenderer", "shapes \(shapes.shape) are not [N, 5]")
        let n = shapes.shape[0]
        let x = shapes.sliced(axis: 1, 0, 1), y = shapes.sliced(axis: 1, 1, 2)  // [N, 1]
        let w = shapes.sliced(axis: 1, 2, 3), h = shapes.sliced(axis: 1, 3, 4)
        let angle = shapes.sliced(axis: 1, 4, 5) * Double.pi
        let c = angle.cos(), s = angle.sin()
        let heightOverWidth: Double = Double(height) / Double(width)
        let widthOverHeight: Double = Double(width) / Double(height)
        let a00 = c / w
        let a01 = s * heightOverWidth / w
        let a10 = -(s * widthOverHeight) / h
        let a11 = c / h
        let oneMinus2x = 1 - x * 2, oneMinus2y = 1 - y * 2
        let a02 = oneMinus2x * a00 + oneMinus2y * a01
        let a12 = oneMinus2y * a11 + oneMinus2x * a10
        return Tensor.concat([a00, a01, a02, a10, a11, a12], axis: 1).reshaped([n, 2, 3])  // [N, 2, 3]
    }

    /// Renders each stroke on its own transparent canvas.
    /// - Parameters:
    ///   - shapes: [N, 5] (x, y, w, h, θ).
    ///   - colors: [N, 3] RGB.
    ///   - height: output height in pixels.
    ///   - width: output width in pixels.
    /// - Returns: `foreground` [N, 3, H, W] (colour × warped brush, 3×3-dilated) and `alpha` [N, 1, H, W] (warped
    ///   thresholded brush, soft at the edges, 3×3-eroded).
    public func render(shapes: Tensor, colors: Tensor, height: Int, width: Int) -> (foreground: Tensor, alpha: Tensor) {
        let n = shapes.shape.first ?? 0
        shapeCheck(colors.shape == [n, 3], "DifferentiableStrokeRenderer", "colors \(colors.shape) for shapes \(shapes.shape); expected [\(n), 3]")
        shapeCheck(shapes.dtype == colors.dtype, "DifferentiableStrokeRenderer", "dtypes differ: shapes \(shapes.dtype), colors \(colors.dtype)")
        let theta = Self.affineMatrices(shapes, height: height, width: width)          // [N, 2, 3]
        let grid = Tensor.affineGrid(theta: theta, height: height, width: width)       // [N, H, W, 2]
        let (vertical, horizontal) = textures(shapes.dtype)
        let sampledVertical = vertical.gridSample(grid)                                // [N, 2, H, W]
        let sampledHorizontal = horizontal.gridSample(grid)                            // [N, 2, H, W]
        let w = shapes.sliced(axis: 1, 2, 3), h = shapes.sliced(axis: 1, 3, 4)
        let isVertical = h.greater(w).reshaped([n, 1, 1, 1])                           // [N, 1, 1, 1], no gradient
        let sampled = Tensor.where(isVertical, sampledVertical, sampledHorizontal)     // [N, 2, H, W]
        let warp = sampled.sliced(axis: 1, 0, 1)                                        // [N, 1, H, W]
        let softAlpha = sampled.sliced(axis: 1, 1, 2)                                   // [N, 1, H, W]
        let foreground = (warp * colors.reshaped([n, 3, 1, 1])).maxFilter3x3()          // [N, 3, H, W]
        return (foreground, softAlpha.minFilter3x3())
    }

    /// `render` with the brush choice given: each stroke samples only the brush `vertical[i]` names (the choice
    /// passes no gradient in `render` either), half the sampling work. Same outputs as `render` when `vertical[i]`
    /// is h > w. `colors` may have any number of channels C ([N, C] → foreground [N, C, H, W]); one channel of 1s
    /// gives the dilated brush intensity alone.
    public func render(shapes: Tensor, colors: Tensor, vertical: [Bool], height: Int, width: Int)
        -> (foreground: Tensor, alpha: Tensor) {
        let n = shapes.shape.first ?? 0
        shapeCheck(colors.rank == 2 && colors.shape[0] == n && vertical.count == n, "DifferentiableStrokeRenderer",
                   "colors \(colors.shape) and \(vertical.count) brush choices for shapes \(shapes.shape)")
        let (verticalTexture, horizontalTexture) = textures(shapes.dtype)
        var parts: [Tensor] = [], order: [Int] = []
        for (texture, wanted) in [(verticalTexture, true), (horizontalTexture, false)] {
            let members = (0..<n).filter { vertical[$0] == wanted }
            guard !members.isEmpty else { continue }
            let subset = members.count == n ? shapes : shapes.indexSelect(axis: 0, members)
            let grid = Tensor.affineGrid(theta: Self.affineMatrices(subset, height: height, width: width), height: height, width: width)
            parts.append(texture.gridSample(grid))                                      // [n_k, 2, H, W]
            order += members
        }
        var position = [Int](repeating: 0, count: n)
        for (slot, original) in order.enumerated() { position[original] = slot }
        let joined = parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 0)
        let sampled = position == Array(0..<n) ? joined : joined.indexSelect(axis: 0, position)  // [N, 2, H, W]
        let foreground = (sampled.sliced(axis: 1, 0, 1) * colors.reshaped([n, colors.shape[1], 1, 1])).maxFilter3x3()  // [N, C, H, W]
        return (foreground, sampled.sliced(axis: 1, 1, 2).minFilter3x3())
    }

    /// The over operator in query order: canvas ← fg·α·d + canvas·(1 − α·d) for strokes 0…N−1, as one fused op
    /// (StrokeCompositing.swift).
    /// - Parameters:
    ///   - canvas: [B, 3, H, W] starting canvases.
    ///   - foreground: [B·N, 3, H, W] from `render` (batch-major: stroke i of patch b at b·N + i).
    ///   - alpha: [B·N, 1, H, W] from `render`.
    ///   - decisions: [B, N] in {0, 1} (or a straight-through estimate); nil draws every stroke.
    /// - Returns: the painted canvases, [B, 3, H, W].
    public static func composite(canvas: Tensor, foreground: Tensor, alpha: Tensor, decisions: Tensor?) -> Tensor {
        let (b, n) = checkCompositeShapes(canvas: canvas, foreground: foreground, alpha: alpha, decisions: decisions)
        let d = decisions ?? Tensor.ones([b, n], dtype: canvas.dtype)
        return Tensor.make(StrokeCompositeOp(), [canvas, foreground, alpha, d], shape: canvas.shape, dtype: canvas.dtype)
    }

    /// `composite` from engine ops, one stroke at a time: the fused op's composite form (its higher-order
    /// gradients differentiate this) and the plain reference it is tested against.
    static func compositeWithEngineOps(canvas: Tensor, foreground: Tensor, alpha: Tensor, decisions: Tensor?) -> Tensor {
        let (b, n) = checkCompositeShapes(canvas: canvas, foreground: foreground, alpha: alpha, decisions: decisions)
        let (hgt, wid) = (canvas.shape[2], canvas.shape[3])
        let fg = foreground.reshaped([b, n, 3, hgt, wid])
        let al = alpha.reshaped([b, n, 1, hgt, wid])
        var out = canvas
        for i in 0..<n {
            var a = al.select(axis: 1, i)                                               // [B, 1, H, W]
            if let decisions { a = a * decisions.select(axis: 1, i).reshaped([b, 1, 1, 1]) }
            out = fg.select(axis: 1, i) * a + out * (1 - a)
        }
        return out
    }

    /// Windows B and strokes per window N, after checking that the four tensors agree.
    private static func checkCompositeShapes(canvas: Tensor, foreground: Tensor, alpha: Tensor, decisions: Tensor?) -> (Int, Int) {
        shapeCheck(canvas.rank == 4 && canvas.shape[1] == 3, "DifferentiableStrokeRenderer.composite", "canvas \(canvas.shape) is not [B, 3, H, W]")
        let (b, hgt, wid) = (canvas.shape[0], canvas.shape[2], canvas.shape[3])
        let n = foreground.shape[0] / max(b, 1)
        shapeCheck(foreground.shape == [b * n, 3, hgt, wid] && alpha.shape == [b * n, 1, hgt, wid]
                   && foreground.dtype == canvas.dtype && alpha.dtype == canvas.dtype,
                   "DifferentiableStrokeRenderer.composite",
                   "canvas \(canvas.shape), foreground \(foreground.shape), alpha \(alpha.shape) do not match")
        if let decisions {
            shapeCheck(decisions.shape == [b, n] && decisions.dtype == canvas.dtype, "DifferentiableStrokeRenderer.composite",
                       "decisions \(decisions.shape), expected [\(b), \(n)]")
        }
        return (b, n)
    }

    /// Bilinear colour of `images` [B, 3, H, W] at the strokes' centres (grid_sample, align_corners = false, zero
    /// padding), as the reference samples stroke colours from the target. Differentiable in x and y.
    /// - Parameter shapes: [B, N, 5] (only x and y are read).
    /// - Returns: [B, N, 3].
    public static func sampleColors(_ images: Tensor, at shapes: Tensor) -> Tensor {
        let (b, n) = (shapes.shape[0], shapes.shape[1])
        let grid = (shapes.sliced(axis: 2, 0, 2) * 2 - 1).reshaped([b, n, 1, 2])       // [B, N, 1, 2]
        return images.gridSample(grid).reshaped([b, 3, n]).permuted([0, 2, 1])          // [B, N, 3]
    }

    /// The straight-through sign of the reference's `SignWithSigmoidGrad`: forward 1 where logit > 0, else 0;
    /// backward σ'(logit). Built as `hard + σ(l) − σ(l)` with the hard part and one σ detached.
    public static func straightThroughDecisions(_ logits: Tensor) -> Tensor {
        let soft = logits.sigmoid()
        return logits.greater(0).detached() + (soft - soft.detached())  // the bracket is exactly 0 forward
    }
}
