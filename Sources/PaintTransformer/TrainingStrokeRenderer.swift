// The training renderer (reference §2, Huage001 train `param2stroke`), host-side and without gradients: the
// brush texture is sampled straight into the output (no pre-resize), alpha is thresholded *before* warping
// (brush > 0, then warped, so it is soft at the edges), foreground = warp(brush)·colour; then 3×3 dilation of
// the foreground and 3×3 erosion of the alpha. It makes the synthetic training data and is the reference for the
// differentiable engine renderer built later.

/// One rendered stroke on a whole canvas, before compositing.
public struct StrokeLayer: Sendable, Equatable {
    /// Canvas size in pixels.
    public let width: Int
    public let height: Int
    /// Dilated colour, [3, height, width].
    public var foreground: [Float]
    /// Eroded soft alpha in [0, 1], [height, width] (the reference repeats it over the 3 channels).
    public var alpha: [Float]
}

/// Renders strokes the way the reference's training code does.
public struct TrainingStrokeRenderer: Sendable {
    /// Vertical brush for h > w, horizontal otherwise.
    public let brushes: BrushSet
    /// `brush > 0` as 0/1, per brush, [H, W].
    private let verticalMask: [Float]
    private let horizontalMask: [Float]

    /// Creates a renderer and precomputes the thresholded brush masks.
    public init(brushes: BrushSet = .oilPaint()) {
        self.brushes = brushes
        verticalMask = brushes.vertical.pixels.map { $0 > 0 ? 1 : 0 }
        horizontalMask = brushes.horizontal.pixels.map { $0 > 0 ? 1 : 0 }
    }

    /// Renders `stroke` over a whole `width × height` canvas (the window is the canvas).
    public func layer(for stroke: Stroke, width: Int, height: Int) -> StrokeLayer {
        let scratch = RasterScratch()
        return layer(for: stroke, width: width, height: height, scratch: scratch)
    }

    func layer(for stroke: Stroke, width: Int, height: Int, scratch: RasterScratch) -> StrokeLayer {
        var result = StrokeLayer(
            width: width, height: height, foreground: [Float](repeating: 0, count: 3 * width * height),
            alpha: [Float](repeating: 0, count: width * height))
        let vertical = stroke.h > stroke.w
        let brush = vertical ? brushes.vertical : brushes.horizontal
        guard
            let footprint = StrokeFootprint(
                stroke, windowWidth: width, windowHeight: height, sourceWidth: brush.width, sourceHeight: brush.height)
        else { return result }
        let paint = footprint.support.intersection(PixelRect(x0: 0, y0: 0, x1: width - 1, y1: height - 1))
        guard !paint.isEmpty else { return result }

        let rows = (0..<brush.height).map(Int32.init), cols = (0..<brush.width).map(Int32.init)
        let mask = vertical ? verticalMask : horizontalMask
        brush.pixels.withUnsafeBufferPointer { texture in
            mask.withUnsafeBufferPointer { maskTexture in
                rows.withUnsafeBufferPointer { r in
                    cols.withUnsafeBufferPointer { c in
                        let grid = SourceGrid(
                            texture: texture.baseAddress!, mask: maskTexture.baseAddress!, textureWidth: brush.width,
                            rowIndex: r.baseAddress!, colIndex: c.baseAddress!, width: brush.width,
                            height: brush.height)
                        warpAndMorph(
                            footprint, grid: grid, windowWidth: width, windowHeight: height, paint: paint,
                            scratch: scratch)
                    }
                }
            }
        }
        // Outside `paint` every tap is zero padding, so foreground and alpha stay 0 there.
        let outMax = scratch.plane(5), outMin = scratch.plane(6), outMask = scratch.plane(7)
        let colour = stroke.color
        let plane = width * height
        result.foreground.withUnsafeMutableBufferPointer { fg in
            result.alpha.withUnsafeMutableBufferPointer { alpha in
                for i in paint.y0...paint.y1 {
                    let o = (i - paint.y0) * paint.width - paint.x0
                    for j in paint.x0...paint.x1 {
                        alpha[i * width + j] = outMask[o + j]
                        for ch in 0..<3 {
                            fg[ch * plane + i * width + j] = colour[ch] >= 0 ? colour[ch] * outMax[o + j] : colour[ch] * outMin[o + j]
                        }
                    }
                }
            }
        }
        return result
    }

    /// The reference's over operator: canvas ← fg·α + canvas·(1 − α).
    /// - Parameter canvas: [3, H, W] with the layer's size.
    public static func composite(_ layer: StrokeLayer, onto canvas: inout RGBImage) {
        precondition(
            canvas.width == layer.width && canvas.height == layer.height,
            "[TrainingStrokeRenderer.composite] canvas \(canvas.width)×\(canvas.height) vs layer \(layer.width)×\(layer.height)")
        let plane = layer.width * layer.height
        canvas.pixels.withUnsafeMutableBufferPointer { out in
            layer.foreground.withUnsafeBufferPointer { fg in
                layer.alpha.withUnsafeBufferPointer { alpha in
                    for ch in 0..<3 {
                        for p in 0..<plane {
                            let a = alpha[p]
                            out[ch * plane + p] = fg[ch * plane + p] * a + out[ch * plane + p] * (1 - a)
                        }
                    }
                }
            }
        }
    }
}
