import Atelier
import Foundation

// The shared core of both host renderers: PyTorch's affine_grid + grid_sample (bilinear, zeros padding,
// align_corners=False) of a brush into a stroke window, followed by the 3×3 anti-halo morphology.
//
// Geometry (reference §2) written in window pixels: for pixel centre (j+½, i+½), offset Δ from the stroke centre
// (x·W, y·H), the source grid (Ws × Hs texels) is read at
//   col = ( cos·Δx + sin·Δy)·Ws/(w·W) + (Ws−1)/2,   row = (−sin·Δx + cos·Δy)·Hs/(h·H) + (Hs−1)/2,
// which is the reference's 2×3 matrix after un-normalising both grids. Only the stroke's support box is
// evaluated: outside it every bilinear tap is zero padding.

/// Inclusive rectangle of pixel indices.
struct PixelRect: Equatable {
    var x0: Int, y0: Int, x1: Int, y1: Int
    var isEmpty: Bool { x1 < x0 || y1 < y0 }
    var width: Int { x1 - x0 + 1 }
    var height: Int { y1 - y0 + 1 }

    func intersection(_ other: PixelRect) -> PixelRect {
        PixelRect(x0: max(x0, other.x0), y0: max(y0, other.y0), x1: min(x1, other.x1), y1: min(y1, other.y1))
    }
}

/// One stroke's inverse affine map (window pixel index → source grid coordinate) and its support box.
struct StrokeFootprint {
    var colX: Float, colY: Float, col0: Float
    var rowX: Float, rowY: Float, row0: Float
    /// Window pixels that can be non-zero after warping and 3×3 dilation, not yet clipped to the window.
    var support: PixelRect

    /// Returns nil for a stroke that paints nothing: non-finite parameters or a degenerate box (|w| or |h|
    /// below 1e-6), where the reference would divide by ~0.
    init?(_ stroke: Stroke, windowWidth: Int, windowHeight: Int, sourceWidth: Int, sourceHeight: Int) {
        let x = Double(stroke.x), y = Double(stroke.y), w = Double(stroke.w), h = Double(stroke.h)
        let theta = Double(stroke.theta)
        guard x.isFinite, y.isFinite, w.isFinite, h.isFinite, theta.isFinite, abs(w) >= 1e-6, abs(h) >= 1e-6 else {
            return nil
        }
        let wn = Double(windowWidth), hn = Double(windowHeight)
        let ws = Double(sourceWidth), hs = Double(sourceHeight)
        let c = cos(Double.pi * theta), s = sin(Double.pi * theta)
        let cx = x * wn, cy = y * hn
        let kx = ws / (w * wn), ky = hs / (h * hn)
        colX = Float(c * kx)
        colY = Float(s * kx)
        col0 = Float((c * (0.5 - cx) + s * (0.5 - cy)) * kx + (ws - 1) / 2)
        rowX = Float(-s * ky)
        rowY = Float(c * ky)
        row0 = Float((-s * (0.5 - cx) + c * (0.5 - cy)) * ky + (hs - 1) / 2)
        // A tap is non-zero only for col ∈ (−1, Ws): half-extents (Ws+1)/2 texels, i.e. (Ws+1)/(2·|kx|) pixels.
        let ax = (ws + 1) / (2 * abs(kx)), ay = (hs + 1) / (2 * abs(ky))
        let ex = abs(c) * ax + abs(s) * ay, ey = abs(s) * ax + abs(c) * ay
        // One extra pixel for rounding, one for the dilation; clamp before converting so huge strokes can't trap.
        func index(_ v: Double, _ limit: Int) -> Int { Int(min(max(v, -4), Double(limit) + 4)) }
        support = PixelRect(
            x0: index((cx - ex - 0.5).rounded(.down) - 2, windowWidth),
            y0: index((cy - ey - 0.5).rounded(.down) - 2, windowHeight),
            x1: index((cx + ex - 0.5).rounded(.up) + 2, windowWidth),
            y1: index((cy + ey - 0.5).rounded(.up) + 2, windowHeight))
    }
}

/// A brush as the warp reads it: a grid of `width × height` texels, texel (r, c) being
/// `texture[rowIndex[r]·textureWidth + colIndex[c]]`. The inference renderer's nearest pre-resize of the brush to
/// the window is exactly such an index map; the training renderer uses identity maps.
struct SourceGrid {
    var texture: UnsafePointer<Float>
    /// Optional second texture sampled at the same points (the training renderer's thresholded alpha).
    var mask: UnsafePointer<Float>?
    var textureWidth: Int
    var rowIndex: UnsafePointer<Int32>
    var colIndex: UnsafePointer<Int32>
    var width: Int
    var height: Int
}

/// Reusable buffers for one thread of rendering. Not thread-safe: give each worker its own.
final class RasterScratch {
    private(set) var capacity = 0
    /// Eight planes: warp, mask, horizontal max/min/mask-min, output max/min/mask-min.
    private(set) var base: UnsafeMutablePointer<Float>
    /// Cached nearest-resize index maps, keyed by (source size, grid size).
    var nearestKey: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var nearestRows: [Int32] = []
    var nearestCols: [Int32] = []

    init() { base = .allocate(capacity: 0) }
    deinit { base.deallocate() }

    func reserve(_ count: Int) {
        guard count > capacity else { return }
        base.deallocate()
        capacity = max(count, capacity * 2)
        base = .allocate(capacity: 8 * capacity)
    }

    func plane(_ k: Int) -> UnsafeMutablePointer<Float> { base + k * capacity }
}

/// Index map of PyTorch's default `F.interpolate(mode="nearest")` from `input` to `output` texels:
/// src = min(⌊dst · (input/output)⌋, input − 1), computed in Float as PyTorch does.
func nearestIndices(input: Int, output: Int) -> [Int32] {
    let scale = Float(input) / Float(output)
    return (0..<output).map { Int32(min(Int((Float($0) * scale).rounded(.down)), input - 1)) }
}

/// Bilinear sample with zero padding at source coordinate (`col`, `row`) (texel centres at integers).
@inline(__always)
func sampleBilinear(_ texture: UnsafePointer<Float>, _ grid: SourceGrid, col: Float, row: Float) -> Float {
    guard col > -1, row > -1, col < Float(grid.width), row < Float(grid.height) else { return 0 }
    let c0f = floorInRange(col), r0f = floorInRange(row)
    let fx = col - c0f, fy = row - r0f
    let c0 = Int(c0f), r0 = Int(r0f)
    let hasLeft = c0 >= 0, hasRight = c0 + 1 < grid.width
    let leftIndex = hasLeft ? Int(grid.colIndex[c0]) : 0
    let rightIndex = hasRight ? Int(grid.colIndex[c0 + 1]) : 0
    var value: Float = 0
    if r0 >= 0 {
        let line = texture + Int(grid.rowIndex[r0]) * grid.textureWidth
        let nw = hasLeft ? line[leftIndex] : 0, ne = hasRight ? line[rightIndex] : 0
        value += (nw * (1 - fx) + ne * fx) * (1 - fy)
    }
    if r0 + 1 < grid.height {
        let line = texture + Int(grid.rowIndex[r0 + 1]) * grid.textureWidth
        let sw = hasLeft ? line[leftIndex] : 0, se = hasRight ? line[rightIndex] : 0
        value += (sw * (1 - fx) + se * fx) * fy
    }
    return value
}

/// Warps the brush over `paint` ± 1 px (clipped to the window) and applies the 3×3 morphology, with window
/// borders ignored (the reference pads max with −1e9 and min with +1e9).
///
/// Afterwards, for every pixel of `paint` (row-major, stride `paint.width`): `scratch.plane(5)` holds the 3×3 max
/// of the warped brush, `plane(6)` its 3×3 min, and — if `grid.mask` is set — `plane(7)` the 3×3 min of the
/// warped mask. Dilation of `warp·colour` is then `colour·max` for colour ≥ 0 and `colour·min` otherwise.
/// - Parameter paint: pixels wanted, inside the window `[0, windowWidth) × [0, windowHeight)`, non-empty.
func warpAndMorph(
    _ footprint: StrokeFootprint, grid: SourceGrid, windowWidth: Int, windowHeight: Int,
    paint: PixelRect, scratch: RasterScratch
) {
    let eval = PixelRect(
        x0: max(paint.x0 - 1, 0), y0: max(paint.y0 - 1, 0),
        x1: min(paint.x1 + 1, windowWidth - 1), y1: min(paint.y1 + 1, windowHeight - 1))
    let ew = eval.width, eh = eval.height, pw = paint.width
    scratch.reserve(ew * eh)
    let warp = scratch.plane(0), mask = scratch.plane(1)  // [eh, ew]
    let hMax = scratch.plane(2), hMin = scratch.plane(3), hMask = scratch.plane(4)  // [eh, pw]
    let outMax = scratch.plane(5), outMin = scratch.plane(6), outMask = scratch.plane(7)  // [ph, pw]
    let f = footprint

    for i in eval.y0...eval.y1 {
        let colBase = f.colY * Float(i) + f.col0, rowBase = f.rowY * Float(i) + f.row0
        let out = (i - eval.y0) * ew - eval.x0
        for j in eval.x0...eval.x1 {
            let col = colBase + f.colX * Float(j), row = rowBase + f.rowX * Float(j)
            warp[out + j] = sampleBilinear(grid.texture, grid, col: col, row: row)
        }
        if let maskTexture = grid.mask {
            for j in eval.x0...eval.x1 {
                let col = colBase + f.colX * Float(j), row = rowBase + f.rowX * Float(j)
                mask[out + j] = sampleBilinear(maskTexture, grid, col: col, row: row)
            }
        }
    }

    // Separable 3×3: horizontal over the evaluated rows, then vertical onto the paint rectangle.
    let withMask = grid.mask != nil
    for r in 0..<eh {
        for j in paint.x0...paint.x1 {
            let k = j - eval.x0
            let lo = max(k - 1, 0), hi = min(k + 1, ew - 1)
            var mx = warp[r * ew + lo], mn = mx
            var mm: Float = withMask ? mask[r * ew + lo] : 0
            if lo + 1 <= hi {
                for t in (lo + 1)...hi {
                    let v = warp[r * ew + t]
                    mx = max(mx, v)
                    mn = min(mn, v)
                    if withMask { mm = min(mm, mask[r * ew + t]) }
                }
            }
            let o = r * pw + (j - paint.x0)
            hMax[o] = mx
            hMin[o] = mn
            hMask[o] = mm
        }
    }
    for i in paint.y0...paint.y1 {
        let r = i - eval.y0
        let lo = max(r - 1, 0), hi = min(r + 1, eh - 1)
        let o = (i - paint.y0) * pw
        for q in 0..<pw {
            var mx = hMax[lo * pw + q], mn = hMin[lo * pw + q], mm = hMask[lo * pw + q]
            if lo + 1 <= hi {
                for t in (lo + 1)...hi {
                    mx = max(mx, hMax[t * pw + q])
                    mn = min(mn, hMin[t * pw + q])
                    mm = min(mm, hMask[t * pw + q])
                }
            }
            outMax[o + q] = mx
            outMin[o + q] = mn
            outMask[o + q] = mm
        }
    }
}
