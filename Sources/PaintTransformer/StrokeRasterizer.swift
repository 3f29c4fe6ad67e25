// The inference renderer (reference §2, Huage001 inference `param2stroke` + compositing), host-side and
// non-differentiable: the brush is nearest-resized to the window, warped bilinearly, alpha = warped > 0 (binary),
// foreground = warped × colour; foreground 3×3-dilated, alpha 3×3-eroded, then canvas ← fg·α + canvas·(1−α).
// Only the stroke's support box (+1 px for the morphology) is touched, so cost scales with stroke area.

/// Draws strokes into a planar RGB canvas exactly as the reference's inference code does.
public struct StrokeRasterizer: Sendable {
    /// Vertical brush for h > w, horizontal otherwise.
    public var brushes: BrushSet

    /// Creates a rasterizer with the given brushes (default: the procedural oil-paint pair).
    public init(brushes: BrushSet = .oilPaint()) {
        self.brushes = brushes
    }

    /// Composites one stroke onto `canvas` inside `window`.
    ///
    /// The stroke is confined to its window (the morphology treats the window border as padding) and pixels
    /// of the window outside the canvas are skipped.
    /// - Parameters:
    ///   - stroke: shape in window-normalised units and colour.
    ///   - window: canvas pixels that the normalised coordinates span; may extend past the canvas.
    ///   - canvas: image [3, H, W], modified in place.
    public func draw(_ stroke: Stroke, in window: PixelWindow, on canvas: inout RGBImage) {
        draw([stroke], in: window, on: &canvas)
    }

    /// Composites `strokes` in order (first drawn first, so later strokes cover earlier ones).
    public func draw(_ strokes: [Stroke], in window: PixelWindow, on canvas: inout RGBImage) {
        let scratch = RasterScratch()
        let (w, h) = (canvas.width, canvas.height)
        canvas.pixels.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for stroke in strokes {
                draw(stroke, in: window, canvas: base, width: w, height: h, scratch: scratch)
            }
        }
    }

    /// Pointer form for parallel painting: callers guarantee that concurrent calls touch disjoint windows
    /// and use distinct scratch buffers.
    /// - Parameter canvas: planar [3, height, width].
    func draw(
        _ stroke: Stroke, in window: PixelWindow, canvas: UnsafeMutablePointer<Float>, width: Int, height: Int,
        scratch: RasterScratch
    ) {
        guard window.width > 0, window.height > 0 else { return }
        let brush = brushes.brush(w: stroke.w, h: stroke.h)
        // The reference resizes the brush to the window first, so the warp's source grid is window-sized.
        guard
            let footprint = StrokeFootprint(
                stroke, windowWidth: window.width, windowHeight: window.height,
                sourceWidth: window.width, sourceHeight: window.height)
        else { return }
        let inWindow = PixelRect(x0: 0, y0: 0, x1: window.width - 1, y1: window.height - 1)
        let onCanvas = PixelRect(
            x0: -window.left, y0: -window.top, x1: width - 1 - window.left, y1: height - 1 - window.top)
        let paint = footprint.support.intersection(inWindow).intersection(onCanvas)
        guard !paint.isEmpty else { return }

        let key = (brush.width, brush.height, window.width, window.height)
        if scratch.nearestKey != key {
            scratch.nearestKey = key
            scratch.nearestRows = nearestIndices(input: brush.height, output: window.height)
            scratch.nearestCols = nearestIndices(input: brush.width, output: window.width)
        }
        brush.pixels.withUnsafeBufferPointer { texture in
            scratch.nearestRows.withUnsafeBufferPointer { rows in
                scratch.nearestCols.withUnsafeBufferPointer { cols in
                    let grid = SourceGrid(
                        texture: texture.baseAddress!, mask: nil, textureWidth: brush.width,
                        rowIndex: rows.baseAddress!, colIndex: cols.baseAddress!,
                        width: window.width, height: window.height)
                    warpAndMorph(
                        footprint, grid: grid, windowWidth: window.width, windowHeight: window.height,
                        paint: paint, scratch: scratch)
                }
            }
        }

        // Binary alpha: a pixel is painted iff its whole 3×3 neighbourhood (within the window) has warp > 0.
        let outMax = scratch.plane(5), outMin = scratch.plane(6)
        let plane = width * height
        let colour = stroke.color
        let pw = paint.width
        for i in paint.y0...paint.y1 {
            let row = (window.top + i) * width + window.left
            let o = (i - paint.y0) * pw - paint.x0
            for j in paint.x0...paint.x1 where outMin[o + j] > 0 {
                let mx = outMax[o + j], mn = outMin[o + j]
                for c in 0..<3 {
                    // Clipped at 1: fitted colours may exceed 1 so that textured strokes reach white.
                    canvas[c * plane + row + j] = colour[c] >= 0 ? min(colour[c] * mx, 1) : colour[c] * mn
                }
            }
        }
    }
}
