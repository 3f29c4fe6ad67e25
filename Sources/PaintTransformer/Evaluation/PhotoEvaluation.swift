import Foundation
import Atelier

// Scoring `paint` on real photos: PSNR and SSIM of the painting beside the photo's 8-px and 16-px block averages
// (a calibrated floor), and the per-query spread of the predictor's finest-layer strokes — the statistic that
// exposes a content-independent template (every patch gets the same strokes: spread ≈ 0; uniformly placed centres
// in [0, 1) would give 0.29, in the training range [0.2, 0.7) 0.14).

/// How much each query's stroke centre moves from patch to patch.
public struct QuerySpread: Sendable, Codable, Equatable {
    /// Per query: mean of the standard deviations of x and y over the patches where it is kept, in patch units
    /// (0 where it is kept in fewer than 2 patches).
    public var perQuery: [Double]
    /// Per query: fraction of patches where it is kept.
    public var keepRate: [Double]
    /// Mean of `perQuery` over the queries kept in at least 2 patches.
    public var mean: Double

    /// The spread of `strokes` (patch-major, `strokesPerPatch` per patch, patch-normalised centres).
    public init(_ strokes: [PredictedStroke], strokesPerPatch n: Int) {
        precondition(n > 0 && strokes.count % n == 0, "[QuerySpread] \(strokes.count) strokes are not whole patches of \(n)")
        let patches = strokes.count / n
        var spreads: [Double] = [], rates: [Double] = [], used: [Double] = []
        for q in 0..<n {
            let kept = (0..<patches).map { strokes[$0 * n + q] }.filter { $0.decision > 0 }
            rates.append(patches > 0 ? Double(kept.count) / Double(patches) : 0)
            guard kept.count >= 2 else { spreads.append(0); continue }
            func std(_ v: [Double]) -> Double {
                let m = v.reduce(0, +) / Double(v.count)
                return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot()
            }
            let s = (std(kept.map { Double($0.x) }) + std(kept.map { Double($0.y) })) / 2
            spreads.append(s)
            used.append(s)
        }
        perQuery = spreads
        keepRate = rates
        mean = used.isEmpty ? 0 : used.reduce(0, +) / Double(used.count)
    }
}

/// One photo's figures.
public struct PhotoScore: Sendable, Codable, Equatable {
    public var name: String
    public var width: Int
    public var height: Int
    public var strokes: Int
    /// Wall time of the painting (network, refinement, rendering).
    public var seconds: Double
    public var psnr: Double
    public var ssim: Double
    public var block8PSNR: Double
    public var block8SSIM: Double
    public var block16PSNR: Double
    public var block16SSIM: Double
    /// Finest regular layer's query spread.
    public var spread: QuerySpread
}

public enum PhotoEvaluation {
    /// Paints `image` with `network` and scores the result.
    /// - Parameters:
    ///   - refineSteps: stroke refinement per layer (0: off).
    /// - Returns: the score and the painting.
    public static func evaluate(_ image: RGBImage, name: String, network: StrokePredictorNetwork, refineSteps: Int,
                                detailLayers: Int = 0, detailShare: Double = 1, fitColors: Bool = true, ground: CanvasGround = .mean,
                                refineLearningRates: (shape: Double, color: Double)? = nil, decisionThreshold: Float = 0,
                                pruneStrokes: Bool = false, brushes: BrushSet = .oilPaint()) throws -> (score: PhotoScore, painting: Painting) {
        let n = network.configuration.strokesPerPatch
        var refiner = refineSteps > 0 || fitColors || pruneStrokes
            ? StrokeRefiner(steps: refineSteps, fitColors: fitColors, prunesStrokes: pruneStrokes, brushes: brushes) : nil
        if let rates = refineLearningRates {
            refiner?.shapeLearningRate = rates.shape
            refiner?.colorLearningRate = rates.color
        }
        var painter = Painter(brushes: brushes, strokesPerPatch: n, detailLayers: detailLayers, ground: ground, refiner: refiner,
                              detailShare: detailShare)
        painter.decisionThreshold = decisionThreshold
        let base = PaintTransformerModel.predictor(network)
        let finest = Painter.refinementCount(width: image.width, height: image.height) + detailLayers  // last regular pass
        let recorder = PredictionRecorder()
        let predictor: StrokePredictor = { targets, canvases, count in
            let out = try base(targets, canvases, count)
            if recorder.pass == finest { recorder.strokes += out }
            return out
        }
        let start = Date()
        let painting = try painter.paint(image, predictor: predictor, frames: .perPass, progress: { p in
            if p.phase == .predicting { recorder.pass = p.pass }
        })
        let seconds = Date().timeIntervalSince(start)
        let block8 = image.blockAverage(8), block16 = image.blockAverage(16)
        let score = PhotoScore(
            name: name, width: image.width, height: image.height, strokes: painting.record.strokes.count, seconds: seconds,
            psnr: painting.image.psnr(against: image), ssim: painting.image.ssim(against: image),
            block8PSNR: block8.psnr(against: image), block8SSIM: block8.ssim(against: image),
            block16PSNR: block16.psnr(against: image), block16SSIM: block16.ssim(against: image),
            spread: QuerySpread(recorder.strokes, strokesPerPatch: n))
        return (score, painting)
    }
}

/// What the finest pass predicted. Rule: written only from the painter's own (serial) callbacks.
private final class PredictionRecorder: @unchecked Sendable {
    var pass = -1
    var strokes: [PredictedStroke] = []
}
