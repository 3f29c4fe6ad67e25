import Foundation
import Atelier
import AtelierMedia

// What the `paint` command does, as a library call so tests can drive it: read (or generate) the picture, load
// the model, paint coarse to fine, and write the painting, an animation and the stroke list. All outputs are
// checked before any work (`StagedOutputs`), written to temporary files beside their targets and renamed only when
// everything succeeded, so a failure leaves no partial output and no temporary file.

/// Options of one painting job.
public struct PaintJobOptions: Sendable {
    /// The photo (PNG/JPEG); nil paints the built-in demo landscape.
    public var input: URL?
    public var output: URL
    /// `.gif` (GIF) or `.png` (APNG).
    public var animation: URL?
    /// `.json` (every stroke) or `.svg` (vector rendition).
    public var strokes: URL?
    /// Weights file; nil uses the shipped model.
    public var model: URL?
    /// `paper`, `small`, …; nil takes the configuration named in the model file.
    public var configuration: String?
    /// Resize so the longer side is this many pixels (aspect kept).
    public var size: Int?
    /// Paint at most this many coarse-to-fine layers.
    public var layers: Int?
    /// A grayscale PNG used as the brush: for both grains, or for tall strokes (h > w) when `horizontalBrush` is set.
    public var brush: URL?
    /// A grayscale PNG for wide strokes (h ≤ w), as the reference's second brush; needs `brush`.
    public var horizontalBrush: URL?
    /// Also write the picture that was painted (after resizing; the demo landscape with `input == nil`).
    public var saveInput: URL?
    /// Patches per network call.
    public var batchSize: Int = 256
    /// A stroke is drawn iff its decision logit exceeds this.
    public var decisionThreshold: Float = PaintJobOptions.defaultDecisionThreshold
    /// The default threshold.
    /// Every stroke by default: trained on synthetic patches where 15 % of the strokes are redundant, the decision
    /// head drops 55–75 % of a real photo's strokes, and the gaps cost more than the strokes (held-out PSNR
    /// 19.17 dB at threshold 0, 20.69 dB with all strokes, both without refinement).
    public static let defaultDecisionThreshold = -Float.infinity
    /// The canvas colour before the first stroke.
    public var ground: CanvasGround = .black
    /// Least-squares stroke colours over each stroke's footprint instead of the colour at its centre.
    public var fitColors = true
    /// Layers finer than the paper's last one (0…2; each ≈ 4× the strokes).
    public var detailLayers: Int = PaintJobOptions.defaultDetailLayers
    /// One detail layer by default, on 40 % of its patches (with 60 refinement steps: the setting chosen on the
    /// tuning photos, where it beat 40 steps on half the patches by 0.3 dB in the same time; README).
    public static let defaultDetailLayers = 1
    /// Share (0, 1] of each detail layer's patches painted: those furthest from the photo.
    public var detailShare: Double = PaintJobOptions.defaultDetailShare
    public static let defaultDetailShare = 0.4
    /// Adam steps of stroke refinement per layer (0: off).
    public var refineSteps: Int = PaintJobOptions.defaultRefineSteps
    /// The default refinement (README: PSNR with and without): 60 steps since the C kernel made a step 2× cheaper
    /// and pruning made the second half cheaper still; steps gained more than detail patches (tuning photos:
    /// 24.87 dB at 60 steps and share 0.4, 24.55 at 40 and 0.5, 24.65 at 50 and 0.4).
    public static let defaultRefineSteps = 60
    /// Leave out the strokes that do not lower their window's error (`StrokeRefiner.prunesStrokes`).
    public var pruneStrokes = true
    /// Largest `refineSteps` accepted.
    public static let maximumRefineSteps = 1000

    public init(input: URL?, output: URL) {
        self.input = input
        self.output = output
    }
}

/// What a job produced.
public struct PaintJobSummary: Sendable {
    public var width: Int
    public var height: Int
    public var layers: Int
    public var strokes: Int
    public var frames: Int
    public var seconds: Double
    /// Painting vs the (resized) input, dB.
    public var psnr: Double
}

/// A job failure, one line each.
public enum PaintJobError: Error, CustomStringConvertible {
    case image(ImageError)
    case emptyImage(path: String)
    case tooLarge(path: String, width: Int, height: Int)
    case badOption(String)
    case model(ModelError)
    case brush(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case extremeAspectRatio(path: String, width: Int, height: Int)

    /// Longest side `paint` accepts after `--size` (a 2048² canvas is 5 layers + the shifted pass, ≈10⁴ patches).
    public static let maximumSide = 2048
    /// Largest ratio of the longer to the shorter side (after `--size`). The painter works on a square canvas of
    /// the longer side, so a 1×2048 strip would cost as much as a 2048×2048 picture (≈ 50 s, 700 MB).
    public static let maximumAspectRatio = 16

    public var description: String {
        switch self {
        case let .image(e): e.description
        case let .emptyImage(path): "\(path) has no pixels"
        case let .tooLarge(path, w, h):
            "\(path) is \(w)×\(h); the limit is \(Self.maximumSide) px on the longer side — pass --size \(Self.maximumSide) or less"
        case let .badOption(message): message
        case let .model(e): e.description
        case let .brush(path, reason): "brush \(path): \(reason)"
        case let .unwritable(path, reason): "cannot write \(path): \(reason)"
        case let .extremeAspectRatio(path, w, h):
            "\(path) is \(w)×\(h); paint needs the longer side at most \(Self.maximumAspectRatio)× the shorter "
                + "(it paints a square canvas of the longer side) — crop it nearer to square"
        }
    }
}

public enum PaintJob {
    /// A user's brush image as a texture (grey levels / 255), refused if unreadable or all black.
    static func loadBrush(_ url: URL) throws(PaintJobError) -> Brush {
        let raster: RasterImage
        do { raster = try RasterImage.load(from: url, channels: 1) } catch { throw .image(error) }
        let brush: Brush
        do {
            brush = try Brush(width: raster.width, height: raster.height, pixels: raster.pixels.map { Float($0) / 255 })
        } catch { throw .brush(path: url.path, reason: error.description) }
        guard raster.pixels.contains(where: { $0 > 0 }) else {
            throw .brush(path: url.path, reason: "the image is all black, so it would paint nothing")
        }
        return brush
    }

    /// Runs a job; `log` receives progress lines.
    public static func run(_ options: PaintJobOptions, log: @escaping (String) -> Void = { _ in }) throws(PaintJobError) -> PaintJobSummary {
        let start = Date()
        // Validate options and output paths before any work.
        if let animation = options.animation, !["gif", "png"].contains(animation.pathExtension.lowercased()) {
            throw .badOption("--animation must end in .gif or .png (APNG), got \(animation.lastPathComponent)")
        }
        if let strokes = options.strokes, !["json", "svg"].contains(strokes.pathExtension.lowercased()) {
            throw .badOption("--strokes must end in .json or .svg, got \(strokes.lastPathComponent)")
        }
        if options.output.pathExtension.lowercased() != "png" {
            throw .badOption("--output must end in .png, got \(options.output.lastPathComponent)")
        }
        if let size = options.size, size < 1 || size > PaintJobError.maximumSide {
            throw .badOption("--size must be 1…\(PaintJobError.maximumSide), got \(size)")
        }
        if let layers = options.layers, layers < 1 { throw .badOption("--layers must be at least 1, got \(layers)") }
        guard (0...Painter.maximumDetailLayers).contains(options.detailLayers) else {
            throw .badOption("--detail must be 0…\(Painter.maximumDetailLayers), got \(options.detailLayers)")
        }
        guard options.detailShare.isFinite, options.detailShare > 0, options.detailShare <= 1 else {
            throw .badOption("--detail-share must be in (0, 1], got \(options.detailShare)")
        }
        guard (0...PaintJobOptions.maximumRefineSteps).contains(options.refineSteps) else {
            throw .badOption("--refine must be 0…\(PaintJobOptions.maximumRefineSteps), got \(options.refineSteps)")
        }
        var configuration: PaintTransformerConfiguration? = nil
        if let name = options.configuration {
            guard let c = PaintTransformerConfiguration.named[name] else { throw .badOption("unknown --config '\(name)'; use one of \(PaintTransformerConfiguration.namesList)") }
            configuration = c
        }
        let targets: [(flag: String, url: URL)] = [("--output", options.output), ("--animation", options.animation),
                                                   ("--strokes", options.strokes), ("--save-input", options.saveInput)]
            .compactMap { flag, url in url.map { (flag, $0) } }
        let inputs: [(what: String, url: URL)] = [("the input photo", options.input), ("the --model file", options.model),
                                                  ("the --brush image", options.brush),
                                                  ("the --brush-horizontal image", options.horizontalBrush)]
            .compactMap { what, url in url.map { (what, $0) } }
        let staged = try StagedOutputs(targets, inputs: inputs)

        // The picture.
        var image: RGBImage
        if let input = options.input {
            let raster: RasterImage
            do { raster = try RasterImage.load(from: input, channels: 3) } catch { throw .image(error) }
            guard raster.width > 0, raster.height > 0 else { throw .emptyImage(path: input.path) }
            var resized = raster
            if let size = options.size, max(raster.width, raster.height) != size {
                let scale = Double(size) / Double(max(raster.width, raster.height))
                resized = raster.resized(width: max(1, Int((Double(raster.width) * scale).rounded())),
                                         height: max(1, Int((Double(raster.height) * scale).rounded())),
                                         filter: scale < 1 ? .area : .bilinear)
            }
            guard max(resized.width, resized.height) <= PaintJobError.maximumSide else {
                throw .tooLarge(path: input.path, width: resized.width, height: resized.height)
            }
            guard max(resized.width, resized.height) <= PaintJobError.maximumAspectRatio * min(resized.width, resized.height) else {
                throw .extremeAspectRatio(path: input.path, width: resized.width, height: resized.height)
            }
            image = RGBImage(width: resized.width, height: resized.height, pixels: resized.planarFloats())
        } else {
            image = .demoLandscape(size: options.size ?? 512)
        }

        // Model and brushes.
        let network: StrokePredictorNetwork
        do {
            if let model = options.model {
                network = try PaintTransformerModel.load(from: model, configuration: configuration)
            } else {
                network = try PaintTransformerModel.loadShipped()
                if let configuration, configuration != network.configuration {
                    throw ModelError.wrongConfiguration(path: "the shipped model", configuration: configuration.name,
                                                        detail: "it is '\(network.configuration.name)'")
                }
            }
        } catch let error as ModelError {
            throw .model(error)
        } catch {
            throw .badOption("\(error)")
        }
        var brushes = BrushSet.oilPaint()
        if options.horizontalBrush != nil && options.brush == nil {
            throw .badOption("--brush-horizontal needs --brush (the brush for tall strokes)")
        }
        if let brushURL = options.brush {
            let vertical = try loadBrush(brushURL)
            let horizontal = try options.horizontalBrush.map(loadBrush) ?? vertical
            brushes = BrushSet(vertical: vertical, horizontal: horizontal)
        }
        let refiner = options.refineSteps > 0 || options.fitColors || options.pruneStrokes
            ? StrokeRefiner(steps: options.refineSteps, fitColors: options.fitColors, prunesStrokes: options.pruneStrokes,
                            brushes: brushes) : nil
        var painter = Painter(brushes: brushes, maxLayers: options.layers, detailLayers: options.detailLayers, ground: options.ground,
                              predictorBatchSize: options.batchSize, refiner: refiner, detailShare: options.detailShare)
        painter.decisionThreshold = options.decisionThreshold
        var frames: [RasterImage] = []
        let wantFrames = options.animation != nil
        let painting: Painting
        let predictor = PaintTransformerModel.predictor(network)
        var networkSeconds = 0.0
        let timed: StrokePredictor = { targets, canvases, count in
            let t0 = Date()
            defer { networkSeconds += Date().timeIntervalSince(t0) }
            return try predictor(targets, canvases, count)
        }
        let paintStart = Date()
        do {
            painting = try painter.paint(
                image, predictor: timed, frames: .perGroup,
                progress: { p in
                    switch p.phase {
                    case .predicting:
                        log("pass \(p.pass + 1)/\(p.passCount)\(p.pass == p.passCount - 1 ? " (shifted)" : ""): \(p.patches) patches, \(p.strokesDrawn) strokes so far")
                    case .refining, .rendering: break
                    case .finished: log("done: \(p.strokesDrawn) strokes")
                    }
                },
                onFrame: wantFrames ? { frame in
                    frames.append(RasterImage(planar: frame.image.pixels, channels: 3, height: frame.image.height, width: frame.image.width))
                } : nil)
        } catch {
            throw .badOption("\(error)")
        }
        let paintSeconds = Date().timeIntervalSince(paintStart)
        log(String(format: "network %.2f s, rendering %.2f s", networkSeconds, paintSeconds - networkSeconds))
        if let profiler = ExecutionContext.current.profiler { log(profiler.report(top: 15)) }

        // Encode everything first, then write and publish the files together.
        let result = RasterImage(planar: painting.image.pixels, channels: 3, height: image.height, width: image.width)
        var encoded: [(url: URL, data: Data)] = []
        do {
            encoded.append((options.output, try result.pngData()))
            if let animation = options.animation {
                // Start from the bare ground, end on the finished painting for a while.
                let g = options.ground.color(of: image)
                let plane = image.width * image.height
                let ground = RasterImage(planar: (0..<3).flatMap { [Float](repeating: g[$0], count: plane) }, channels: 3,
                                         height: image.height, width: image.width)
                let movie = Animation(frames: [ground] + frames + Array(repeating: result, count: 8), frameDuration: 0.12)
                encoded.append((animation, animation.pathExtension.lowercased() == "gif" ? try movie.gifData() : try movie.apngData()))
            }
            if let saveInput = options.saveInput {
                encoded.append((saveInput, try RasterImage(planar: image.pixels, channels: 3, height: image.height, width: image.width).pngData()))
            }
            if let strokes = options.strokes {
                encoded.append((strokes, strokes.pathExtension.lowercased() == "svg"
                    ? Data(painting.record.svg().utf8) : try painting.record.jsonData()))
            }
        } catch let error as ImageError {
            throw .image(error)
        } catch {
            throw .unwritable(path: options.output.path, reason: "\(error)")
        }
        try staged.publish(encoded)
        return PaintJobSummary(width: image.width, height: image.height, layers: painting.record.layers,
                               strokes: painting.record.strokes.count, frames: frames.count,
                               seconds: Date().timeIntervalSince(start), psnr: painting.image.psnr(against: image))
    }
}
