import Foundation
import Atelier

// The coarse-to-fine painting procedure (reference §5, Huage001 inference.py), with the stroke predictor as a
// closure so the network plugs in later.
//
// Padded square canvas S = 32·2^K. Layer l sees the image and the canvas nearest-downsampled to 32·2^l, cut into
// 4^l patches of 32²; each patch yields 8 strokes whose shapes are mapped into a render window twice the patch
// (centred on it) and drawn at full resolution, the windows in four interleaved non-overlapping groups. A final
// pass repeats the last layer on a grid shifted by half a patch to hide seams.
//
// Deviation from Huage001: the shifted pass also keeps only strokes with logit > 0 (Huage001 casts raw logits to
// bool there, drawing every stroke; the Paddle code thresholds, as here).

/// Why painting failed.
public enum PainterError: Error, Equatable, CustomStringConvertible {
    case emptyImage(width: Int, height: Int)
    case predictorCount(expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .emptyImage(w, h): "[Painter] image is empty (\(w)×\(h))"
        case let .predictorCount(e, g): "[Painter] predictor returned \(g) strokes, expected \(e) (patches × strokes per patch)"
        }
    }
}

/// The canvas before the first stroke: the paper's black, the photo's mean colour (a toned ground, as painters
/// use; it helps where the strokes leave gaps, and cost 1.3 dB on the held-out photos with the shipped model,
/// whose strokes cover the canvas) or white.
public enum CanvasGround: String, Sendable, Equatable, CaseIterable {
    case black, mean, white

    /// The ground colour for painting `image`.
    public func color(of image: RGBImage) -> SIMD3<Float> {
        switch self {
        case .black: return .zero
        case .white: return SIMD3(repeating: 1)
        case .mean:
            let plane = image.width * image.height
            guard plane > 0 else { return .zero }
            var sum = SIMD3<Double>.zero
            for k in 0..<plane {
                sum += SIMD3(Double(image.pixels[k]), Double(image.pixels[plane + k]), Double(image.pixels[2 * plane + k]))
            }
            let mean = sum / Double(plane)
            return SIMD3(Float(mean.x), Float(mean.y), Float(mean.z))
        }
    }
}

/// The finished painting and how it was made.
public struct Painting: Sendable {
    /// Same size as the input, planar [3, H, W].
    public var image: RGBImage
    public var record: PaintingRecord
}

/// Paints a photo coarse to fine with strokes from a predictor.
public struct Painter: Sendable {
    /// Side of a network patch, fixed by the architecture.
    public static let patchSize = 32
    /// Renders the strokes (holds the brushes).
    public var rasterizer: StrokeRasterizer
    /// Strokes the predictor returns per patch (8 in the reference).
    public var strokesPerPatch: Int
    /// Cap on the number of coarse-to-fine layers (nil: K+1 layers, the finest at full resolution). Fewer layers
    /// give fewer, larger strokes; the shifted pass then runs at the last painted layer.
    public var maxLayers: Int?
    /// Layers beyond the paper's finest one (each halves the patch: 16 full-resolution pixels for 1, 8 for 2), for
    /// finer detail at ≈ 4× the strokes and time per extra layer. 0 is the paper's procedure.
    public var detailLayers: Int
    /// Share of each detail layer's patches that are painted (0, 1]: those where the canvas is furthest from the
    /// photo (squared error over the patch). Detail pays where the picture has it; smooth regions are already
    /// close after the paper's layers, and each skipped patch saves its network and refinement time.
    public var detailShare: Double = 1
    /// The colour of the canvas before the first stroke.
    public var ground: CanvasGround
    /// A stroke is drawn iff its decision logit exceeds this (0: the paper's σ > ½; −∞ draws every stroke).
    public var decisionThreshold: Float = 0
    /// Whether to run the final half-patch-shifted pass.
    public var shiftedPass: Bool
    /// Largest number of patches per predictor call (nil: a whole pass at once).
    public var predictorBatchSize: Int?
    /// Rendering threads (nil: the engine's `Threading.count`). The result does not depend on it.
    public var threads: Int?
    /// Gradient-descent refinement of each layer's strokes before they are drawn (nil or 0 steps: off).
    public var refiner: StrokeRefiner?

    /// Creates a painter; see the properties for the options.
    public init(
        brushes: BrushSet = .oilPaint(), strokesPerPatch: Int = 8, maxLayers: Int? = nil, detailLayers: Int = 0,
        ground: CanvasGround = .black, shiftedPass: Bool = true,
        predictorBatchSize: Int? = nil, threads: Int? = nil, refiner: StrokeRefiner? = nil, detailShare: Double = 1
    ) {
        precondition(detailShare > 0 && detailShare <= 1, "[Painter] detailShare \(detailShare) must be in (0, 1]")
        precondition(strokesPerPatch > 0, "[Painter] strokesPerPatch must be positive")
        precondition(maxLayers.map { $0 > 0 } ?? true, "[Painter] maxLayers must be at least 1")
        precondition((0...Painter.maximumDetailLayers).contains(detailLayers), "[Painter] detailLayers \(detailLayers) must be 0…\(Painter.maximumDetailLayers)")
        precondition(predictorBatchSize.map { $0 > 0 } ?? true, "[Painter] predictorBatchSize must be positive")
        rasterizer = StrokeRasterizer(brushes: brushes)
        self.strokesPerPatch = strokesPerPatch
        self.maxLayers = maxLayers
        self.detailLayers = detailLayers
        self.ground = ground
        self.shiftedPass = shiftedPass
        self.predictorBatchSize = predictorBatchSize
        self.threads = threads
        self.refiner = refiner
        self.detailShare = detailShare
    }

    /// Most extra detail layers (the finest patch is then 32 / 2² = 8 full-resolution pixels).
    public static let maximumDetailLayers = 2

    /// K: the number of 2× refinements needed for 32·2^K to cover the image's longer side.
    public static func refinementCount(width: Int, height: Int) -> Int {
        var k = 0
        while patchSize << k < max(width, height) { k += 1 }
        return k
    }

    /// Paints `image`.
    /// - Parameters:
    ///   - image: the photo, planar [3, H, W] in [0, 1]; any size and aspect ratio.
    ///   - predictor: the stroke network (or a stand-in).
    ///   - frames: granularity of `onFrame` calls.
    ///   - progress: called when each pass starts predicting and rendering, and at the end.
    ///   - onFrame: receives snapshots of the canvas, cropped to H×W.
    /// - Returns: the painted image (H×W) and the record of every drawn stroke.
    public func paint(
        _ image: RGBImage, predictor: StrokePredictor, frames: FrameGranularity = .perGroup,
        progress: ((PaintProgress) -> Void)? = nil, onFrame: ((PaintingFrame) -> Void)? = nil
    ) throws -> Painting {
        guard image.width > 0, image.height > 0 else {
            throw PainterError.emptyImage(width: image.width, height: image.height)
        }
        let p = Painter.patchSize
        let k = Painter.refinementCount(width: image.width, height: image.height)
        let side = p << k  // S
        let layers = min(k + 1 + detailLayers, maxLayers ?? (k + 1 + detailLayers))
        let passCount = layers + (shiftedPass ? 1 : 0)
        let padTop = (side - image.height) / 2, padLeft = (side - image.width) / 2
        let photo = PixelRect(x0: padLeft, y0: padTop, x1: padLeft + image.width - 1, y1: padTop + image.height - 1)  // inclusive

        // Target and canvas, both [3, S, S]; the image sits centred, its edge pixels continued outward (the
        // reference pads with black, which makes border strokes sample black and paint dark rims into the image).
        var target = [Float](repeating: 0, count: 3 * side * side)
        copyRows(from: image.pixels, width: image.width, at: 0, to: &target, width: side, at: padTop * side + padLeft,
                 rows: 3, image.height)
        replicateEdges(&target, side: side, left: padLeft, top: padTop, width: image.width, height: image.height)
        let groundColor = ground.color(of: image)
        var canvas = [Float](repeating: 0, count: 3 * side * side)
        for c in 0..<3 { canvas.withUnsafeMutableBufferPointer { $0[(c * side * side)..<((c + 1) * side * side)].update(repeating: groundColor[c]) } }
        var strokes: [PaintedStroke] = []
        var frameNumber = 0
        // The engine's pool size (which `paint --threads` and a valid ATELIER_THREADS set), not a second reading of
        // the environment that would ignore the flag.
        let workerCount = max(1, threads ?? Threading.count)
        let scratches = ScratchPool((0..<workerCount).map { _ in RasterScratch() })

        func crop() -> RGBImage {
            var out = RGBImage(width: image.width, height: image.height)
            copyRows(from: canvas, width: side, at: padTop * side + padLeft, to: &out.pixels, width: image.width, at: 0,
                     rows: 3, image.height)
            return out
        }

        for pass in 0..<passCount {
            let shifted = pass == layers
            let layer = shifted ? layers - 1 : pass
            let perSide = (1 << layer) + (shifted ? 1 : 0)  // patches per side
            let patchPixels = side >> layer  // one patch at full resolution: S / 2^layer (≥ 8: detail layers ≤ 2)
            let origin = shifted ? -p / 2 : 0  // layer-pixel offset of patch (0, 0)
            let count = perSide * perSide
            progress?(PaintProgress(pass: pass, passCount: passCount, phase: .predicting, patches: count,
                                    strokesDrawn: strokes.count))

            // Patches [count, 3, 32, 32] of the nearest-downsampled target and canvas (zero outside).
            var targetPatches = [Float](repeating: 0, count: count * 3 * p * p)
            var canvasPatches = [Float](repeating: 0, count: count * 3 * p * p)
            gatherPatches(from: target, side: side, perSide: perSide, patchPixels: patchPixels, origin: origin, into: &targetPatches)
            gatherPatches(from: canvas, side: side, perSide: perSide, patchPixels: patchPixels, origin: origin, into: &canvasPatches)

            // Window of patch (row, col): the patch grown by half a patch on every side, in canvas pixels.
            let windowOffset = (shifted ? -patchPixels / 2 : 0) - patchPixels / 2
            func window(_ row: Int, _ col: Int) -> PixelWindow {
                PixelWindow(left: col * patchPixels + windowOffset, top: row * patchPixels + windowOffset,
                            width: 2 * patchPixels, height: 2 * patchPixels)
            }
            // Only windows that reach the photo are painted: strokes are drawn inside their window, so the others
            // could change nothing that is kept (a 600×400 photo fills 23 % of its 1024² square).
            let reachesPhoto = (0..<count).map { b in
                let win = window(b / perSide, b % perSide)
                return win.left <= photo.x1 && win.left + win.width > photo.x0
                    && win.top <= photo.y1 && win.top + win.height > photo.y0
            }
            // Detail layers paint only their worst patches (the error counted inside the photo only).
            let painted = layer > k && detailShare < 1
                ? Self.worstPatches(
                    errors: patchErrors(target: target, canvas: canvas, side: side, perSide: perSide, patchPixels: patchPixels,
                                        offset: origin * patchPixels / p, inside: photo),
                    among: reachesPhoto, share: detailShare)
                : reachesPhoto
            let chosen = (0..<count).filter { painted[$0] }
            let predicted: [PredictedStroke?]
            if chosen.count == count {
                predicted = try predict(targetPatches, canvasPatches, count: count, predictor: predictor)
            } else {
                let values = 3 * p * p
                let compactTargets = chosen.flatMap { targetPatches[($0 * values)..<(($0 + 1) * values)] }
                let compactCanvases = chosen.flatMap { canvasPatches[($0 * values)..<(($0 + 1) * values)] }
                let compact = chosen.isEmpty ? [] : try predict(compactTargets, compactCanvases, count: chosen.count, predictor: predictor)
                var spread = [PredictedStroke?](repeating: nil, count: count * strokesPerPatch)
                for (slot, b) in chosen.enumerated() {
                    for s in 0..<strokesPerPatch { spread[b * strokesPerPatch + s] = compact[slot * strokesPerPatch + s] }
                }
                predicted = spread
            }

            // Shape → 2× render window, colour sampled from the target patch at the predicted (x, y).
            progress?(PaintProgress(pass: pass, passCount: passCount, phase: .rendering, patches: count,
                                    strokesDrawn: strokes.count))
            var windowStrokes = [Stroke?](repeating: nil, count: count * strokesPerPatch)
            targetPatches.withUnsafeBufferPointer { patches in
                for b in 0..<count {
                    for s in 0..<strokesPerPatch {
                        guard let q = predicted[b * strokesPerPatch + s], q.decision > decisionThreshold else { continue }
                        let color = sampleColor(patches.baseAddress! + b * 3 * p * p, size: p, x: q.x, y: q.y)
                        windowStrokes[b * strokesPerPatch + s] = Stroke(
                            x: q.x / 2 + 0.25, y: q.y / 2 + 0.25, w: q.w / 2, h: q.h / 2, theta: q.theta, color: color)
                    }
                }
            }

            if let refiner, refiner.steps > 0 || refiner.fitColors || refiner.prunesStrokes {
                progress?(PaintProgress(pass: pass, passCount: passCount, phase: .refining, patches: count,
                                        strokesDrawn: strokes.count))
                refine(&windowStrokes, perSide: perSide, window: window, target: target, canvas: canvas, side: side,
                       refiner: refiner)
            }

            for (group, parity) in [(0, 0), (1, 1), (1, 0), (0, 1)].enumerated() {
                let members = stride(from: parity.0, to: perSide, by: 2).flatMap { row in
                    stride(from: parity.1, to: perSide, by: 2).map { col in (row, col) }
                }
                guard !members.isEmpty else { continue }
                for s in 0..<strokesPerPatch {
                    var jobs: [(PixelWindow, Stroke)] = []
                    for (row, col) in members {
                        guard let stroke = windowStrokes[(row * perSide + col) * strokesPerPatch + s] else { continue }
                        let win = window(row, col)
                        jobs.append((win, stroke))
                        strokes.append(PaintedStroke(
                            centerX: Float(win.left - padLeft) + stroke.x * Float(win.width),
                            centerY: Float(win.top - padTop) + stroke.y * Float(win.height),
                            width: stroke.w * Float(win.width), height: stroke.h * Float(win.height),
                            angle: stroke.theta * 180, red: stroke.color.x, green: stroke.color.y,
                            blue: stroke.color.z, layer: layer, shifted: shifted, group: group, patchRow: row,
                            patchColumn: col, index: s, verticalBrush: stroke.h > stroke.w))
                    }
                    draw(jobs, on: &canvas, side: side, scratches: scratches)
                    if frames == .perStrokeIndex, let onFrame {
                        onFrame(PaintingFrame(image: crop(), sequence: frameNumber, pass: pass, group: group,
                                              strokeIndex: s))
                        frameNumber += 1
                    }
                }
                if frames == .perGroup, let onFrame {
                    onFrame(PaintingFrame(image: crop(), sequence: frameNumber, pass: pass, group: group, strokeIndex: nil))
                    frameNumber += 1
                }
            }
            if frames == .perPass, let onFrame {
                onFrame(PaintingFrame(image: crop(), sequence: frameNumber, pass: pass, group: nil, strokeIndex: nil))
                frameNumber += 1
            }
        }
        progress?(PaintProgress(pass: passCount, passCount: passCount, phase: .finished, patches: 0,
                                strokesDrawn: strokes.count))
        let record = PaintingRecord(width: image.width, height: image.height, layers: layers, strokes: strokes)
        return Painting(image: crop(), record: record)
    }

    /// Replaces each window's kept strokes by their refined versions.
    private func refine(
        _ windowStrokes: inout [Stroke?], perSide: Int, window: (Int, Int) -> PixelWindow, target: [Float],
        canvas: [Float], side: Int, refiner: StrokeRefiner
    ) {
        var windows: [RefinementWindow] = [], owners: [[Int]] = []
        for row in 0..<perSide {
            for col in 0..<perSide {
                let first = (row * perSide + col) * strokesPerPatch
                let kept = (first..<(first + strokesPerPatch)).filter { windowStrokes[$0] != nil }
                guard !kept.isEmpty else { continue }
                let win = window(row, col)
                windows.append(RefinementWindow(
                    target: boxSample(target, side: side, window: win, resolution: refiner.resolution),
                    canvas: boxSample(canvas, side: side, window: win, resolution: refiner.resolution),
                    strokes: kept.map { windowStrokes[$0]! }))
                owners.append(kept)
            }
        }
        for (refined, kept) in zip(refiner.refine(windows), owners) {
            for (stroke, index) in zip(refined, kept) { windowStrokes[index] = stroke }
        }
    }

    /// Which patches a detail layer paints: the ⌈share·n⌉ of the n `eligible` ones with the largest error (ties to
    /// the lower index, so the choice is deterministic).
    static func worstPatches(errors: [Float], among eligible: [Bool], share: Double) -> [Bool] {
        let candidates = errors.indices.filter { eligible[$0] }
        let keep = min(candidates.count, Int((share * Double(candidates.count)).rounded(.up)))
        let order = candidates.sorted { errors[$0] != errors[$1] ? errors[$0] > errors[$1] : $0 < $1 }
        var chosen = [Bool](repeating: false, count: errors.count)
        for b in order.prefix(keep) { chosen[b] = true }
        return chosen
    }

    /// Calls the predictor in chunks and checks the number of strokes it returns.
    private func predict(
        _ targets: [Float], _ canvases: [Float], count: Int, predictor: StrokePredictor
    ) throws -> [PredictedStroke] {
        let chunk = predictorBatchSize ?? count
        let patchValues = 3 * Painter.patchSize * Painter.patchSize
        if chunk >= count {
            let out = try predictor(targets, canvases, count)
            guard out.count == count * strokesPerPatch else {
                throw PainterError.predictorCount(expected: count * strokesPerPatch, got: out.count)
            }
            return out
        }
        var all: [PredictedStroke] = []
        all.reserveCapacity(count * strokesPerPatch)
        for start in stride(from: 0, to: count, by: chunk) {
            let n = min(chunk, count - start)
            let range = (start * patchValues)..<((start + n) * patchValues)
            let out = try predictor(Array(targets[range]), Array(canvases[range]), n)
            guard out.count == n * strokesPerPatch else {
                throw PainterError.predictorCount(expected: n * strokesPerPatch, got: out.count)
            }
            all += out
        }
        return all
    }

    /// Draws one stroke into each of several disjoint windows, in parallel.
    private func draw(_ jobs: [(PixelWindow, Stroke)], on canvas: inout [Float], side: Int, scratches: ScratchPool) {
        guard !jobs.isEmpty else { return }
        let rasterizer = self.rasterizer
        canvas.withUnsafeMutableBufferPointer { buffer in
            let target = DisjointWindows(base: buffer.baseAddress!)
            let workers = min(scratches.items.count, jobs.count)
            if workers == 1 {
                for (win, stroke) in jobs {
                    rasterizer.draw(stroke, in: win, canvas: target.base, width: side, height: side,
                                    scratch: scratches.items[0])
                }
                return
            }
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for j in stride(from: worker, to: jobs.count, by: workers) {
                    rasterizer.draw(jobs[j].1, in: jobs[j].0, canvas: target.base, width: side, height: side,
                                    scratch: scratches.items[worker])
                }
            }
        }
    }
}

/// Canvas pointer shared by rendering workers. Rule: concurrent workers draw into disjoint windows only (the
/// windows of one group never overlap), so no pixel is written by two threads.
private struct DisjointWindows: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
}

/// One scratch buffer per worker. Rule: worker i touches only `items[i]`.
private final class ScratchPool: @unchecked Sendable {
    let items: [RasterScratch]
    init(_ items: [RasterScratch]) { self.items = items }
}

/// Squared error between canvas and target over each patch of a pass, counted inside `photo` (inclusive) only (the padding
/// around the photo is not scored); patch (row, col) covers full-resolution pixels from (row, col)·patchPixels +
/// offset.
private func patchErrors(target: [Float], canvas: [Float], side: Int, perSide: Int, patchPixels: Int, offset: Int,
                 inside photo: PixelRect) -> [Float] {
    var errors = [Float](repeating: 0, count: perSide * perSide)
    target.withUnsafeBufferPointer { t in
        canvas.withUnsafeBufferPointer { c in
            for row in 0..<perSide {
                let top = max(row * patchPixels + offset, photo.y0), bottom = min((row + 1) * patchPixels + offset, photo.y1 + 1)
                guard top < bottom else { continue }
                for col in 0..<perSide {
                    let left = max(col * patchPixels + offset, photo.x0), right = min((col + 1) * patchPixels + offset, photo.x1 + 1)
                    guard left < right else { continue }
                    var e: Float = 0
                    for plane in 0..<3 {
                        for y in top..<bottom {
                            let line = (plane * side + y) * side
                            for x in left..<right { let d = t[line + x] - c[line + x]; e += d * d }
                        }
                    }
                    errors[row * perSide + col] = e
                }
            }
        }
    }
    return errors
}

/// Copies a `[planes, rows, ·]` block of `min(width)`-long rows between two planar images of different widths,
/// with `srcOrigin`/`dstOrigin` the offset of the block's first pixel inside plane 0.
private func copyRows(
    from source: [Float], width sourceWidth: Int, at sourceOrigin: Int, to destination: inout [Float],
    width destinationWidth: Int, at destinationOrigin: Int, rows planes: Int, _ rows: Int
) {
    let count = min(sourceWidth, destinationWidth)
    let sourcePlane = source.count / planes, destinationPlane = destination.count / planes
    source.withUnsafeBufferPointer { src in
        destination.withUnsafeMutableBufferPointer { dst in
            for c in 0..<planes {
                for y in 0..<rows {
                    let from = src.baseAddress! + c * sourcePlane + sourceOrigin + y * sourceWidth
                    let to = dst.baseAddress! + c * destinationPlane + destinationOrigin + y * destinationWidth
                    to.update(from: from, count: count)
                }
            }
        }
    }
}

/// Fills the [3, S, S] square outside the image rectangle with the nearest image pixel.
private func replicateEdges(_ square: inout [Float], side: Int, left: Int, top: Int, width: Int, height: Int) {
    guard width < side || height < side else { return }
    for c in 0..<3 {
        for y in 0..<side {
            let sy = min(max(y, top), top + height - 1)
            for x in 0..<side where y != sy || x < left || x >= left + width {
                let sx = min(max(x, left), left + width - 1)
                square[(c * side + y) * side + x] = square[(c * side + sy) * side + sx]
            }
        }
    }
}

/// Cuts `perSide²` patches of 32×32 layer pixels out of a full-resolution [3, S, S] plane set. Layer pixel l maps to
/// full-resolution pixel ⌊l·patchPixels / 32⌋ (PyTorch nearest resampling: every `step`-th pixel when the layer is
/// coarser, repeated pixels in detail layers); positions outside the square take the nearest edge pixel, so border
/// patches of the shifted grid see the image continued rather than a black frame.
/// - Parameters:
///   - patchPixels: full-resolution side of one patch, S / 2^layer.
///   - origin: layer-pixel coordinate of patch (0, 0)'s top-left corner (−16 for the shifted grid).
///   - patches: output [perSide², 3, 32, 32].
private func gatherPatches(
    from full: [Float], side: Int, perSide: Int, patchPixels: Int, origin: Int, into patches: inout [Float]
) {
    let p = Painter.patchSize
    // Negative layer pixels truncate towards 0 and clamp there: all of them read the first row or column.
    func fullIndex(_ layerPixel: Int) -> Int { min(max(layerPixel * patchPixels / p, 0), side - 1) }
    full.withUnsafeBufferPointer { src in
        patches.withUnsafeMutableBufferPointer { dst in
            for row in 0..<perSide {
                for col in 0..<perSide {
                    let b = row * perSide + col
                    let columns = (0..<p).map { fullIndex(origin + col * p + $0) }
                    for c in 0..<3 {
                        for y in 0..<p {
                            let fy = fullIndex(origin + row * p + y)
                            let line = (c * side + fy) * side
                            let out = ((b * 3 + c) * p + y) * p
                            for x in 0..<p { dst[out + x] = src[line + columns[x]] }
                        }
                    }
                }
            }
        }
    }
}

/// The part of a full-resolution [3, S, S] image under `window`, box-averaged to [3, r, r] (the nearest edge pixel
/// outside the square, as `gatherPatches`).
private func boxSample(_ full: [Float], side: Int, window: PixelWindow, resolution r: Int) -> [Float] {
    var out = [Float](repeating: 0, count: 3 * r * r)
    let factor = max(1, window.width / r)
    let norm = 1 / Float(factor * factor)
    full.withUnsafeBufferPointer { src in
        for c in 0..<3 {
            for y in 0..<r {
                for x in 0..<r {
                    var sum: Float = 0
                    for dy in 0..<factor {
                        let fy = min(max(window.top + y * factor + dy, 0), side - 1)
                        let line = (c * side + fy) * side
                        for dx in 0..<factor { sum += src[line + min(max(window.left + x * factor + dx, 0), side - 1)] }
                    }
                    out[(c * r + y) * r + x] = sum * norm
                }
            }
        }
    }
    return out
}

/// Bilinear colour of a [3, size, size] patch at normalised (x, y): grid_sample with align_corners=False and
/// zero padding, so a point outside the patch fades to black.
private func sampleColor(_ patch: UnsafePointer<Float>, size: Int, x: Float, y: Float) -> SIMD3<Float> {
    let px = x * Float(size) - 0.5, py = y * Float(size) - 0.5
    guard px.isFinite, py.isFinite, px > -1, py > -1, px < Float(size), py < Float(size) else { return .zero }
    let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down))
    let fx = px - Float(x0), fy = py - Float(y0)
    var color = SIMD3<Float>.zero
    for (yy, wy) in [(y0, 1 - fy), (y0 + 1, fy)] where yy >= 0 && yy < size {
        for (xx, wx) in [(x0, 1 - fx), (x0 + 1, fx)] where xx >= 0 && xx < size {
            let o = yy * size + xx
            color += wx * wy * SIMD3(patch[o], patch[size * size + o], patch[2 * size * size + o])
        }
    }
    return color
}
