import Atelier
import CKernels

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
// writes, so the result does not depend on the thread count. The per-window work is the C kernel
// `ck_refinement_loss_f32` (CKernels/refinement_loss.c), vectorised per SIMD level: the scalar Swift version of
// it was still half of `paint`'s time.
//
// Two facts keep it equal to the reference: the dilation of c·warp with c ≥ 0 picks the same pixel for every
// channel (so one arg-max per pixel serves all three), and the filters' tie rule is the engine's (the centre if it
// holds the extreme, else the first extreme in scan order; out-of-window neighbours are skipped). One deliberate
// difference: for a colour channel at exactly 0, where c·warp is 0 everywhere and the reference's dilation routes
// to the centre, the colour's derivative here is the one-sided one (the dilated brush), so a clamped colour can
// rise again.

/// Loss and gradients of a batch of refinement windows; see `StrokeRefiner`.
public struct RefinementLossKernel: Sendable {
    /// A brush's intensities with the zero border the kernel's branch-free bilinear taps read
    /// (`ck_refinement_brush_pad`); its mask (intensity > 0) is derived per lookup, which keeps both brushes in L2
    /// (a stroke's pixels land far apart in the texture, so lookups are cache-bound).
    struct Texture: Sendable {
        let width: Int
        let height: Int
        let padded: [Float]
        init(_ brush: Brush) {
            width = brush.width
            height = brush.height
            padded = [Float](unsafeUninitializedCapacity: (brush.width + 3) * (brush.height + 3)) { out, count in
                ck_refinement_brush_pad(out.baseAddress!, brush.pixels, Int64(brush.width), Int64(brush.height))
                count = out.count
            }
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
    /// step of a refinement: a fresh ≈ 0.5 MB per thread and step would be new zeroed pages each time.
    public final class Workspace: @unchecked Sendable {
        public let strokesPerWindow: Int
        public let resolution: Int
        fileprivate let scratches: [UnsafeMutablePointer<Float>]
        public init(strokesPerWindow n: Int, resolution r: Int, threads: Int = Threading.count) {
            strokesPerWindow = n
            resolution = r
            let count = Int(ck_refinement_scratch_floats(Int64(n), Int64(r)))
            scratches = (0..<max(1, threads)).map { _ in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
                ck_refinement_scratch_init(p, Int64(n), Int64(r))
                return p
            }
        }
        deinit { scratches.forEach { $0.deallocate() } }
    }

    /// - Parameters:
    ///   - targets, canvases: [W, 3, r, r] planar.
    ///   - resolution: r.
    ///   - workspace: scratch to reuse (made for this call when nil); its slots split the windows.
    public func evaluate(targets: [Float], canvases: [Float], strokes: Strokes, resolution r: Int, workspace: Workspace? = nil) -> Result {
        let n = strokes.strokesPerWindow
        let (windows, space) = checked("RefinementLossKernel", targets: targets, canvases: canvases, strokes: strokes,
                                       resolution: r, workspace: workspace)
        let slots = space.scratches.count
        var losses = [Double](repeating: 0, count: windows)
        var dShapes = [Float](repeating: 0, count: windows * n * 5)
        var dColors = [Float](repeating: 0, count: windows * n * 3)
        var removal = [Float](repeating: 0, count: windows * n)
        guard windows > 0 else {
            return Result(loss: 0, windowLosses: [], shapeGradients: [], colorGradients: [], removalChanges: [])
        }
        removal.withUnsafeMutableBufferPointer { rm in
        losses.withUnsafeMutableBufferPointer { l in
        dShapes.withUnsafeMutableBufferPointer { ds in
        dColors.withUnsafeMutableBufferPointer { dc in
        withKernelInputs(targets: targets, canvases: canvases, strokes: strokes) { x in
            let out = UncheckedSendable((rm.baseAddress!, l.baseAddress!, ds.baseAddress!, dc.baseAddress!))
            // Slot k owns its scratch and the windows [W·k/slots, W·(k+1)/slots).
            parallelFor(slots) { range in
                let (rm, l, ds, dc) = out.value
                for slot in range {
                    ck_refinement_loss_f32(l, ds, dc, rm, x.targets, x.canvases, x.shapes, x.colors, x.drawn, x.vertical,
                                           x.verticalTexels, x.verticalWidth, x.verticalHeight, x.horizontalTexels,
                                           x.horizontalWidth, x.horizontalHeight, Int64(n), Int64(r), space.scratches[slot],
                                           Int64(windows * slot / slots), Int64(windows * (slot + 1) / slots))
                }
            }
        }}}}}
        return Result(loss: losses.reduce(0, +), windowLosses: losses, shapeGradients: dShapes, colorGradients: dColors,
                      removalChanges: removal)
    }

    /// Each drawn stroke's least-squares colour (`StrokeRefiner`'s colour fit, in `ck_refinement_fit_colors_f32`),
    /// clamped to [0, ceiling]; a stroke that shows too little to fit, or is not drawn, keeps its colour.
    /// - Returns: [W·n, 3].
    public func fittedColors(targets: [Float], canvases: [Float], strokes: Strokes, resolution r: Int, ceiling: Float,
                             workspace: Workspace? = nil) -> [Float] {
        let n = strokes.strokesPerWindow
        let (windows, space) = checked("RefinementLossKernel.fittedColors", targets: targets, canvases: canvases,
                                       strokes: strokes, resolution: r, workspace: workspace)
        var fitted = strokes.colors
        guard windows > 0 else { return fitted }
        let slots = space.scratches.count
        fitted.withUnsafeMutableBufferPointer { fittedPointer in
        withKernelInputs(targets: targets, canvases: canvases, strokes: strokes) { x in
            let out = UncheckedSendable(fittedPointer.baseAddress!)
            parallelFor(slots) { range in
                for slot in range {
                    ck_refinement_fit_colors_f32(out.value, x.targets, x.canvases, x.shapes, x.colors, x.drawn, x.vertical,
                                                 x.verticalTexels, x.verticalWidth, x.verticalHeight, x.horizontalTexels,
                                                 x.horizontalWidth, x.horizontalHeight, Int64(n), Int64(r), ceiling,
                                                 space.scratches[slot], Int64(windows * slot / slots),
                                                 Int64(windows * (slot + 1) / slots))
                }
            }
        }}
        return fitted
    }

    /// What both kernels read, as pointers valid only inside `withKernelInputs`'s body.
    private struct KernelInputs: @unchecked Sendable {
        let targets, canvases, shapes, colors: UnsafePointer<Float>
        let drawn, vertical: UnsafePointer<Bool>
        let verticalTexels, horizontalTexels: UnsafePointer<Float>
        let verticalWidth, verticalHeight, horizontalWidth, horizontalHeight: Int64
    }

    private func withKernelInputs(targets: [Float], canvases: [Float], strokes: Strokes, _ body: (KernelInputs) -> Void) {
        let (v, h) = (vertical, horizontal)
        targets.withUnsafeBufferPointer { t in
        canvases.withUnsafeBufferPointer { cv in
        strokes.shapes.withUnsafeBufferPointer { sh in
        strokes.colors.withUnsafeBufferPointer { co in
        strokes.drawn.withUnsafeBufferPointer { dr in
        strokes.vertical.withUnsafeBufferPointer { ve in
        v.padded.withUnsafeBufferPointer { vt in
        h.padded.withUnsafeBufferPointer { ht in
            body(KernelInputs(targets: t.baseAddress!, canvases: cv.baseAddress!, shapes: sh.baseAddress!, colors: co.baseAddress!,
                              drawn: dr.baseAddress!, vertical: ve.baseAddress!, verticalTexels: vt.baseAddress!,
                              horizontalTexels: ht.baseAddress!, verticalWidth: Int64(v.width), verticalHeight: Int64(v.height),
                              horizontalWidth: Int64(h.width), horizontalHeight: Int64(h.height)))
        }}}}}}}}
    }

    /// The window count, after checking that the inputs and the workspace agree; the workspace to use.
    private func checked(_ op: String, targets: [Float], canvases: [Float], strokes: Strokes, resolution r: Int,
                         workspace: Workspace?) -> (windows: Int, workspace: Workspace) {
        let n = strokes.strokesPerWindow, plane = r * r
        let windows = r > 0 ? targets.count / (3 * plane) : 0
        shapeCheck(r > 0 && n > 0 && targets.count == windows * 3 * plane && canvases.count == targets.count
                   && strokes.shapes.count == windows * n * 5 && strokes.colors.count == windows * n * 3
                   && strokes.drawn.count == windows * n && strokes.vertical.count == windows * n,
                   op, "targets \(targets.count), canvases \(canvases.count), shapes \(strokes.shapes.count), "
                   + "colors \(strokes.colors.count) for \(windows) windows of \(n) strokes at \(r)²")
        let space = workspace ?? Workspace(strokesPerWindow: n, resolution: r)
        shapeCheck(space.strokesPerWindow == n && space.resolution == r, op,
                   "workspace for \(space.strokesPerWindow) strokes at \(space.resolution)², windows of \(n) at \(r)²")
        return (windows, space)
    }
}
