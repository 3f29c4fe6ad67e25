import Atelier
import Foundation

// Stroke refinement's loss and its gradient in one pass per window, without building a graph. It computes what
// `DifferentiableStrokeRenderer.render` (its foreground clipped at 1) + `composite` + mean squared error and their
// autodiff compute (the plain reference its tests compare against): inverse-affine bilinear sampling of the chosen brush and its mask,
// colour × 3×3 dilation clipped at 1 (as the rasterizer clips), 3×3 erosion of the alpha, over-compositing in
// drawing order, squared error.
//
// Why: built from engine ops, refinement is ~30 graph nodes per window batch and step, and every stroke is
// sampled over the whole window although it covers a few pixels of it; that made refinement two thirds of
// `paint`'s time. Here each stroke touches only its bounding box (plus the filters' 1-pixel reach), the canvas
// under each stroke is kept only inside its box, in per-thread scratch, and windows run in parallel with no shared
// writes, so the result does not depend on the thread count.
//
// Two facts keep it equal to the reference: the dilation of c·warp with c ≥ 0 picks the same pixel for every
// channel (so one arg-max per pixel serves all three), and the filters' tie rule is the engine's (the centre if it
// holds the extreme, else the first extreme in scan order; out-of-window neighbours are skipped). One deliberate
// difference: for a colour channel at exactly 0, where c·warp is 0 everywhere and the reference's dilation routes
// to the centre, the colour's derivative here is the one-sided one (the dilated brush), so a clamped colour can
// rise again.

/// Loss and gradients of a batch of refinement windows; see `StrokeRefiner`.
public struct RefinementLossKernel: Sendable {
    /// A brush's intensities [height·width]; its mask (intensity > 0) is derived per lookup, which keeps both
    /// brushes in L2 (a stroke's pixels land far apart in the texture, so lookups are cache-bound).
    struct Texture: Sendable {
        let width: Int
        let height: Int
        let intensity: [Float]
        init(_ brush: Brush) {
            width = brush.width
            height = brush.height
            intensity = brush.pixels
        }
    }

    let vertical: Texture
    let horizontal: Texture

    public init(brushes: BrushSet) {
        vertical = Texture(brushes.vertical)
        horizontal = Texture(brushes.horizontal)
    }

    /// The windows' strokes, packed: stroke i of window w at w·strokesPerWindow + i.
    public struct Strokes {
        public var shapes: [Float]      // [W·n, 5]: x, y, w, h, θ
        public var colors: [Float]      // [W·n, 3]
        public var drawn: [Bool]        // [W·n]: false for the padding of windows with fewer strokes
        public var vertical: [Bool]     // [W·n]: which brush (fixed during refinement, as in the reference rule)
        public let strokesPerWindow: Int
        public init(shapes: [Float], colors: [Float], drawn: [Bool], vertical: [Bool], strokesPerWindow: Int) {
            self.shapes = shapes; self.colors = colors; self.drawn = drawn; self.vertical = vertical
            self.strokesPerWindow = strokesPerWindow
        }
    }

    public struct Result {
        /// Σ over windows of the window's mean squared error over its 3·r² values.
        public var loss: Double
        /// Each window's mean squared error.
        public var windowLosses: [Double]
        public var shapeGradients: [Float]
        public var colorGradients: [Float]
        /// [W·n]: how much the window's mean squared error changes if stroke i alone is left out (the others as
        /// they are); negative where the stroke does harm. 0 for padding strokes.
        public var removalChanges: [Float]
    }

    /// Per-thread scratch for windows of `strokesPerWindow` strokes at `resolution`², made once and reused by every
    /// step of a refinement: a fresh ≈ 0.4 MB per thread and step would be new zeroed pages each time.
    public final class Workspace: @unchecked Sendable {
        public let strokesPerWindow: Int
        public let resolution: Int
        fileprivate let scratches: [Scratch]
        public init(strokesPerWindow n: Int, resolution r: Int, threads: Int = Threading.count) {
            strokesPerWindow = n
            resolution = r
            scratches = (0..<max(1, threads)).map { _ in Scratch(strokes: n, resolution: r) }
        }
    }

    /// - Parameters:
    ///   - targets, canvases: [W, 3, r, r] planar.
    ///   - resolution: r.
    ///   - workspace: scratch to reuse (made for this call when nil); its slots split the windows.
    public func evaluate(targets: [Float], canvases: [Float], strokes: Strokes, resolution r: Int, workspace: Workspace? = nil) -> Result {
        let n = strokes.strokesPerWindow, plane = r * r
        let windows = targets.count / (3 * plane)
        shapeCheck(r > 0 && n > 0 && targets.count == windows * 3 * plane && canvases.count == targets.count
                   && strokes.shapes.count == windows * n * 5 && strokes.colors.count == windows * n * 3
                   && strokes.drawn.count == windows * n && strokes.vertical.count == windows * n,
                   "RefinementLossKernel", "targets \(targets.count), canvases \(canvases.count), shapes \(strokes.shapes.count), "
                   + "colors \(strokes.colors.count) for \(windows) windows of \(n) strokes at \(r)²")
        let space = workspace ?? Workspace(strokesPerWindow: n, resolution: r)
        shapeCheck(space.strokesPerWindow == n && space.resolution == r, "RefinementLossKernel",
                   "workspace for \(space.strokesPerWindow) strokes at \(space.resolution)², windows of \(n) at \(r)²")
        let slots = space.scratches.count
        var losses = [Double](repeating: 0, count: windows)
        var dShapes = [Float](repeating: 0, count: windows * n * 5)
        var dColors = [Float](repeating: 0, count: windows * n * 3)
        var removal = [Float](repeating: 0, count: windows * n)
        removal.withUnsafeMutableBufferPointer { rm in
        let removalBase = UncheckedSendable(rm.baseAddress!)
        targets.withUnsafeBufferPointer { t in
            canvases.withUnsafeBufferPointer { cv in
                losses.withUnsafeMutableBufferPointer { l in
                    dShapes.withUnsafeMutableBufferPointer { ds in
                        dColors.withUnsafeMutableBufferPointer { dc in
                            let io = UncheckedSendable((t.baseAddress!, cv.baseAddress!, l.baseAddress!, ds.baseAddress!, dc.baseAddress!))
                            // Slot k owns its scratch and the windows [W·k/slots, W·(k+1)/slots).
                            parallelFor(slots) { range in
                                let (t, cv, l, ds, dc) = io.value
                                for slot in range {
                                    let scratch = space.scratches[slot]
                                    for w in (windows * slot / slots)..<(windows * (slot + 1) / slots) {
                                        l[w] = window(w, target: t + w * 3 * plane, canvas: cv + w * 3 * plane, strokes: strokes,
                                                      r: r, scratch: scratch, dShapes: ds + w * n * 5, dColors: dc + w * n * 3,
                                                      removal: removalBase.value + w * n)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        return Result(loss: losses.reduce(0, +), windowLosses: losses, shapeGradients: dShapes, colorGradients: dColors,
                      removalChanges: removal)
    }

    /// Per-thread buffers for one window; planes are [r²], per stroke where marked [n, r²]. Pairs are
    /// (brush intensity, mask). A class over raw memory: the window code reads and writes several buffers at once,
    /// which Swift arrays in one struct would not allow.
    fileprivate final class Scratch {
        let canvas: UnsafeMutablePointer<Float>            // [3, r²]: the window painted so far
        let under: UnsafeMutablePointer<Float>             // [n, 3, r²]: the canvas under stroke i, inside its box only
        let coordinates: UnsafeMutablePointer<Float>       // [r]: pixel centres in normalised units
        let sampled: UnsafeMutablePointer<SIMD2<Float>>     // [n, r²]: bilinear samples
        let slopeX: UnsafeMutablePointer<SIMD2<Float>>      // [n, r²]: their slopes along grid x
        let slopeY: UnsafeMutablePointer<SIMD2<Float>>      // [n, r²]: along grid y
        let filtered: UnsafeMutablePointer<SIMD2<Float>>    // [n, r²]: 3×3 max of the intensity, 3×3 min of the mask (α)
        let rowPass: UnsafeMutablePointer<SIMD2<Float>>     // [r²]: the filters' 1×3 pass
        let gradient: UnsafeMutablePointer<Float>           // [3, r²]: d loss / d canvas after the stroke in hand
        let transmittance: UnsafeMutablePointer<Float>      // [r²]: Π (1 − α) of the strokes drawn after the one in hand
        let dSampled: UnsafeMutablePointer<SIMD2<Float>>    // [r²]: d loss / d samples of the stroke in hand
        var boxes: [(rows: Range<Int>, cols: Range<Int>)]
        init(strokes n: Int, resolution r: Int) {
            let plane = r * r
            func buffer<T: SIMDScalar & BinaryFloatingPoint>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<SIMD2<T>> {
                let p = UnsafeMutablePointer<SIMD2<T>>.allocate(capacity: count)
                p.initialize(repeating: .zero, count: count)
                return p
            }
            canvas = .allocate(capacity: 3 * plane)
            canvas.initialize(repeating: 0, count: 3 * plane)
            under = .allocate(capacity: n * 3 * plane)
            under.initialize(repeating: 0, count: n * 3 * plane)
            coordinates = .allocate(capacity: r)
            for q in 0..<r { coordinates[q] = Float(2 * q + 1) / Float(r) - 1 }
            gradient = .allocate(capacity: 3 * plane)
            gradient.initialize(repeating: 0, count: 3 * plane)
            transmittance = .allocate(capacity: plane)
            transmittance.initialize(repeating: 1, count: plane)
            sampled = buffer(n * plane, Float.self)
            slopeX = buffer(n * plane, Float.self)
            slopeY = buffer(n * plane, Float.self)
            filtered = buffer(n * plane, Float.self)
            rowPass = buffer(plane, Float.self)
            dSampled = buffer(plane, Float.self)
            boxes = Array(repeating: (0..<0, 0..<0), count: n)
        }
        deinit {
            canvas.deallocate(); under.deallocate(); coordinates.deallocate(); gradient.deallocate(); transmittance.deallocate(); sampled.deallocate(); slopeX.deallocate()
            slopeY.deallocate(); filtered.deallocate(); rowPass.deallocate(); dSampled.deallocate()
        }
    }

    /// The reference's inverse affine matrix (a00, a01, a02, a10, a11, a12) for a square window, with cos and sin.
    @inline(__always)
    private static func affine(_ shapes: [Float], at k: Int) -> (a: (Float, Float, Float, Float, Float, Float), c: Float, s: Float) {
        let (x, y, w, h) = (shapes[k * 5], shapes[k * 5 + 1], shapes[k * 5 + 2], shapes[k * 5 + 3])
        let angle = shapes[k * 5 + 4] * Float.pi
        let c = Float(cos(Double(angle))), sn = Float(sin(Double(angle)))
        let a00 = c / w, a01 = sn / w, a10 = -sn / h, a11 = c / h
        let a02 = (1 - 2 * x) * a00 + (1 - 2 * y) * a01
        let a12 = (1 - 2 * y) * a11 + (1 - 2 * x) * a10
        return ((a00, a01, a02, a10, a11, a12), c, sn)
    }

    /// Pixels whose samples can be non-zero: the texture's box, one texel wider, mapped into the window, plus one
    /// pixel of margin on each side, clipped to the window.
    private static func footprint(_ a: (Float, Float, Float, Float, Float, Float), texture: Texture, r: Int)
        -> (rows: Range<Int>, cols: Range<Int>) {
        let (a00, a01, a02, a10, a11, a12) = a
        let det = a00 * a11 - a01 * a10
        guard det.isFinite, det != 0 else { return (0..<r, 0..<r) }
        let ex = 1 + 1 / Float(texture.width), ey = 1 + 1 / Float(texture.height)
        var lo = SIMD2<Float>(.infinity, .infinity), hi = SIMD2<Float>(-.infinity, -.infinity)
        for gx in [-ex, ex] {
            for gy in [-ey, ey] {
                let u = (a11 * (gx - a02) - a01 * (gy - a12)) / det
                let v = (-a10 * (gx - a02) + a00 * (gy - a12)) / det
                // Normalised coordinate u = (2q + 1)/r − 1 ⇒ pixel q = ((u + 1)·r − 1)/2.
                let p = SIMD2(((u + 1) * Float(r) - 1) / 2, ((v + 1) * Float(r) - 1) / 2)
                lo = pointwiseMin(lo, p)
                hi = pointwiseMax(hi, p)
            }
        }
        guard lo.x.isFinite, lo.y.isFinite, hi.x.isFinite, hi.y.isFinite else { return (0..<r, 0..<r) }
        func clip(_ l: Float, _ h: Float) -> Range<Int> {
            let first = max(0, Int(max(l.rounded(.down), -1)) - 1)
            let last = min(r - 1, Int(min(h.rounded(.up), Float(r))) + 1)
            return first <= last ? first..<(last + 1) : 0..<0
        }
        return (clip(lo.y, hi.y), clip(lo.x, hi.x))
    }

    /// Bilinear sample (zero padding, align_corners = false) of the (intensity, mask) texture at grid (gx, gy),
    /// with its slopes along grid x and y.
    @inline(__always)
    private static func sample(_ texels: UnsafePointer<Float>, width wb: Int, height hb: Int, gx: Float, gy: Float)
        -> (value: SIMD2<Float>, dx: SIMD2<Float>, dy: SIMD2<Float>) {
        let sx = Float(wb) / 2, sy = Float(hb) / 2
        let ix = (gx + 1) * sx - 0.5, iy = (gy + 1) * sy - 0.5
        // ⌊ix⌋ > −2 ⟺ ix ≥ −1 and ⌊ix⌋ < wb + 1 ⟺ ix < wb + 1; NaN fails both.
        guard ix >= -1 && iy >= -1 && ix < Float(wb + 1) && iy < Float(hb + 1) else { return (.zero, .zero, .zero) }
        let fx = floorInRange(ix), fy = floorInRange(iy)
        let tx = ix - fx, ty = iy - fy
        let x0 = Int(fx), y0 = Int(fy)
        let okX0 = x0 >= 0 && x0 < wb, okX1 = x0 + 1 >= 0 && x0 + 1 < wb
        let okY0 = y0 >= 0 && y0 < hb, okY1 = y0 + 1 >= 0 && y0 + 1 < hb
        let o = y0 * wb + x0
        @inline(__always) func texel(_ ok: Bool, _ at: Int) -> SIMD2<Float> {
            guard ok else { return .zero }
            let v = texels[at]
            return SIMD2(v, v > 0 ? 1 : 0)
        }
        let v00 = texel(okX0 && okY0, o), v01 = texel(okX1 && okY0, o + 1)
        let v10 = texel(okX0 && okY1, o + wb), v11 = texel(okX1 && okY1, o + wb + 1)
        let top = v00 + (v01 - v00) * tx, bottom = v10 + (v11 - v10) * tx
        let value = top + (bottom - top) * ty
        let dx = ((v01 - v00) * (1 - ty) + (v11 - v10) * ty) * sx
        let dy = (bottom - top) * sy
        return (value, dx, dy)
    }

    /// Where the engine's 3×3 filter at (i, j) of an r×r plane takes its extreme `best` from (out-of-plane
    /// neighbours skipped): the centre if it holds it, else the first neighbour in scan order that does.
    @inline(__always)
    private static func source(of best: Float, in x: UnsafeMutablePointer<SIMD2<Float>>, lane: Int, _ i: Int, _ j: Int, r: Int) -> Int {
        if x[i * r + j][lane] == best { return i * r + j }
        for ii in Swift.max(0, i - 1)...Swift.min(r - 1, i + 1) {
            for jj in Swift.max(0, j - 1)...Swift.min(r - 1, j + 1) where x[ii * r + jj][lane] == best { return ii * r + jj }
        }
        return i * r + j
    }

    /// The box grown by the filters' 1-pixel reach, clipped to the window.
    @inline(__always)
    private static func ring(_ box: (rows: Range<Int>, cols: Range<Int>), r: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        (max(0, box.rows.lowerBound - 1)..<min(r, box.rows.upperBound + 1), max(0, box.cols.lowerBound - 1)..<min(r, box.cols.upperBound + 1))
    }

    /// The canvas's ceiling: `StrokeRasterizer` clips colour × intensity at 1, and so does this loss, so colours
    /// above 1 (`BrushSet.colorCeiling`) brighten a stroke's dim texels without being charged for the clipped ones.
    private static let white = SIMD3<Float>(repeating: 1)

    /// One window: forward through its strokes, then backward; returns the window's loss and writes its gradients.
    /// Colours are assumed ≥ 0 (the refiner clamps them), so the dilation of c·intensity is c·(dilated intensity).
    private func window(_ w: Int, target: UnsafePointer<Float>, canvas: UnsafePointer<Float>, strokes: Strokes, r: Int,
                        scratch: Scratch, dShapes: UnsafeMutablePointer<Float>, dColors: UnsafeMutablePointer<Float>,
                        removal: UnsafeMutablePointer<Float>) -> Double {
        let n = strokes.strokesPerWindow, plane = r * r
        let painted = scratch.canvas
        painted.update(from: canvas, count: 3 * plane)
        // Forward, painting in place; each stroke keeps what it covers for the backward.
        for i in 0..<n {
            let k = w * n + i
            let under = scratch.under + i * 3 * plane
            guard strokes.drawn[k] else { scratch.boxes[i] = (0..<0, 0..<0); continue }
            let texture = strokes.vertical[k] ? vertical : horizontal
            let a = Self.affine(strokes.shapes, at: k).a
            let box = Self.footprint(a, texture: texture, r: r)
            scratch.boxes[i] = box
            sampleStroke(i, a: a, texture: texture, box: box, r: r, scratch: scratch)
            let c = SIMD3(strokes.colors[k * 3], strokes.colors[k * 3 + 1], strokes.colors[k * 3 + 2])
            let filtered = scratch.filtered + i * plane
            for y in box.rows {
                for x in box.cols {
                    let p = y * r + x
                    let f = filtered[p], alpha = f.y, keep = 1 - alpha
                    let lit = pointwiseMin(c * f.x, Self.white) * alpha
                    let below = (painted[p], painted[plane + p], painted[2 * plane + p])
                    under[p] = below.0; under[plane + p] = below.1; under[2 * plane + p] = below.2
                    painted[p] = lit.x + below.0 * keep
                    painted[plane + p] = lit.y + below.1 * keep
                    painted[2 * plane + p] = lit.z + below.2 * keep
                }
            }
        }
        // Loss and d loss / d painted.
        let g = scratch.gradient
        let scale = 1 / Float(3 * plane)
        var sse = 0.0
        for row in 0..<(3 * r) {
            var rowSum: Float = 0
            for e in (row * r)..<(row * r + r) {
                let d = painted[e] - target[e]
                rowSum += d * d
                g[e] = 2 * d * scale
            }
            sse += Double(rowSum)
        }
        // Backward, last stroke first; g becomes d loss / d (canvas before the stroke).
        // Leaving stroke i out changes the canvas after it by δ = under·α − lit, and the final canvas by T·δ, with T
        // the transmittance of the later strokes; with g = 2·scale·T·(final − target) the loss changes by
        // Σ g·δ + scale·T²·δ² (exactly: the compositing is affine in the canvas under the later strokes).
        let dSampled = scratch.dSampled, transmittance = scratch.transmittance
        transmittance.update(repeating: 1, count: plane)
        for i in (0..<n).reversed() {
            let k = w * n + i
            let box = scratch.boxes[i]
            removal[i] = 0
            guard strokes.drawn[k], !box.rows.isEmpty, !box.cols.isEmpty else { continue }
            let before = scratch.under + i * 3 * plane
            let filtered = scratch.filtered + i * plane, sampled = scratch.sampled + i * plane
            let c = SIMD3(strokes.colors[k * 3], strokes.colors[k * 3 + 1], strokes.colors[k * 3 + 2])
            // The filters route into the box's ring too (nothing sampled there: its slopes are zero).
            let ring = Self.ring(box, r: r)
            for y in ring.rows { for x in ring.cols { dSampled[y * r + x] = .zero } }
            var dColor = SIMD3<Float>.zero
            var change: Float = 0
            for y in box.rows {
                for x in box.cols {
                    let p = y * r + x
                    let f = filtered[p], alpha = f.y
                    // Where α = 0 the stroke changes nothing here and its erosion picked a zero-slope texel.
                    let gp = SIMD3(g[p], g[plane + p], g[2 * plane + p])
                    let under = SIMD3(before[p], before[plane + p], before[2 * plane + p])
                    // A channel clipped at 1 passes nothing to its colour or the dilation (ties count as unclipped,
                    // as the engine's minimum sends them to its first operand).
                    let unclipped = c * f.x, clipped = unclipped .> Self.white
                    let dForeground = (gp * alpha).replacing(with: 0, where: clipped)
                    dColor += dForeground * f.x
                    // α = 0 sends nothing through the dilation; the erosion's share below still counts (its
                    // source can have a one-sided slope where a sample lands exactly on a texel edge).
                    if alpha != 0 { dSampled[Self.source(of: f.x, in: sampled, lane: 0, y, x, r: r)].x += (dForeground * c).sum() }
                    dSampled[Self.source(of: f.y, in: sampled, lane: 1, y, x, r: r)].y += (gp * (pointwiseMin(unclipped, Self.white) - under)).sum()
                    let keep = 1 - alpha
                    let delta = under * alpha - pointwiseMin(unclipped, Self.white) * alpha, t = transmittance[p]
                    change += (gp * delta).sum() + scale * t * t * (delta * delta).sum()
                    transmittance[p] = t * keep
                    g[p] = gp.x * keep
                    g[plane + p] = gp.y * keep
                    g[2 * plane + p] = gp.z * keep
                }
            }
            removal[i] = change
            dColors[i * 3] = dColor.x
            dColors[i * 3 + 1] = dColor.y
            dColors[i * 3 + 2] = dColor.z
            // d loss / d grid → d loss / d (a00 … a12), the grid being A·(u, v, 1).
            var gU = SIMD2<Float>.zero, gV = SIMD2<Float>.zero, gOne = SIMD2<Float>.zero  // (grid x, grid y) each
            let sx = scratch.slopeX + i * plane, sy = scratch.slopeY + i * plane
            let coordinates = scratch.coordinates
            for y in box.rows {
                let v = coordinates[y]
                for x in box.cols {
                    let p = y * r + x
                    let u = coordinates[x]
                    let d = dSampled[p]
                    let dGrid = SIMD2((d * sx[p]).sum(), (d * sy[p]).sum())
                    gU += dGrid * u; gV += dGrid * v; gOne += dGrid
                }
            }
            let (g00, g01, g02, g10, g11, g12) = (gU.x, gV.x, gOne.x, gU.y, gV.y, gOne.y)
            let (a, cs, sn) = Self.affine(strokes.shapes, at: k)
            let (x, y, sw, sh) = (strokes.shapes[k * 5], strokes.shapes[k * 5 + 1], strokes.shapes[k * 5 + 2], strokes.shapes[k * 5 + 3])
            // a02 and a12 depend on a00, a01, a10, a11: total derivatives first.
            let d00 = g00 + g02 * (1 - 2 * x), d01 = g01 + g02 * (1 - 2 * y)
            let d10 = g10 + g12 * (1 - 2 * x), d11 = g11 + g12 * (1 - 2 * y)
            dShapes[i * 5] = -2 * (g02 * a.0 + g12 * a.3)
            dShapes[i * 5 + 1] = -2 * (g02 * a.1 + g12 * a.4)
            dShapes[i * 5 + 2] = -(cs * d00 + sn * d01) / (sw * sw)
            dShapes[i * 5 + 3] = (sn * d10 - cs * d11) / (sh * sh)
            dShapes[i * 5 + 4] = Float.pi * ((-sn * d00 + cs * d01) / sw + (-cs * d10 - sn * d11) / sh)
        }
        return sse * Double(scale)
    }

    /// Samples stroke i's brush and mask over `box` and applies the two 3×3 filters there (separably: a 1×3 pass,
    /// then a 3×1 pass, as the engine's filters do).
    private func sampleStroke(_ i: Int, a: (Float, Float, Float, Float, Float, Float), texture: Texture,
                              box: (rows: Range<Int>, cols: Range<Int>), r: Int, scratch: Scratch) {
        let plane = r * r
        let (a00, a01, a02, a10, a11, a12) = a
        let sampled = scratch.sampled + i * plane, sx = scratch.slopeX + i * plane, sy = scratch.slopeY + i * plane
        // Zero the ring: the filters read it, and nothing is sampled there.
        let ring = Self.ring(box, r: r)
        for y in ring.rows { for x in ring.cols { sampled[y * r + x] = .zero } }
        let coordinates = scratch.coordinates
        texture.intensity.withUnsafeBufferPointer { texels in
            for y in box.rows {
                let v = coordinates[y]
                for x in box.cols {
                    let u = coordinates[x]
                    let s = Self.sample(texels.baseAddress!, width: texture.width, height: texture.height,
                                        gx: a00 * u + a01 * v + a02, gy: a10 * u + a11 * v + a12)
                    let p = y * r + x
                    sampled[p] = s.value; sx[p] = s.dx; sy[p] = s.dy
                }
            }
        }
        // Max of the intensity (lane 0), min of the mask (lane 1); out-of-window neighbours skipped.
        @inline(__always) func combine(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> SIMD2<Float> {
            SIMD2(Swift.max(a.x, b.x), Swift.min(a.y, b.y))
        }
        let rows = scratch.rowPass, filtered = scratch.filtered + i * plane
        for y in ring.rows {
            for x in box.cols {
                var e = sampled[y * r + x]
                if x > 0 { e = combine(e, sampled[y * r + x - 1]) }
                if x < r - 1 { e = combine(e, sampled[y * r + x + 1]) }
                rows[y * r + x] = e
            }
        }
        for y in box.rows {
            for x in box.cols {
                var e = rows[y * r + x]
                if y > 0 { e = combine(e, rows[(y - 1) * r + x]) }
                if y < r - 1 { e = combine(e, rows[(y + 1) * r + x]) }
                filtered[y * r + x] = e
            }
        }
    }
}
