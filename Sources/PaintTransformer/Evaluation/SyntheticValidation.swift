import Foundation
import Atelier

// Validation of a stroke predictor on a fixed, seeded synthetic set, each figure beside the same figure for the
// content-independent baseline: every patch gets the model's own per-query mean prediction (mean shapes, mean
// logits over the set). A predictor that ignores its input — the "mean prediction" stage of set predictors — is
// that baseline, so "no better than the baseline" reads as collapse.
//
//   matching   per patch, Hungarian on cost L1(5 params) + W between all N predictions and the valid strokes
//   L1, W      mean over matched pairs (L1 averaged over the 5 parameters, in the closer of a stroke's two
//              equivalent forms with θ periodic: `strokeErrors`)
//   decision   kept = logit > 0, positive = matched: precision |kept ∩ matched| / |kept|, recall … / |matched|
//   detection  kept predictions matched (Hungarian on kept only) to a valid stroke with W < 0.01 (centres within
//              0.1 of the patch side when the shapes agree) count as hits: precision hits / kept, recall hits / valid
//   pixel L1   mean |reconstruction − target|, kept strokes rendered on the canvas with colours sampled at centres

/// Figures for one predictor on the validation set.
public struct SyntheticValidationMetrics: Sendable, Equatable, Codable {
    public var parameterL1: Double
    public var wasserstein: Double
    public var decisionPrecision: Double
    public var decisionRecall: Double
    public var decisionF1: Double
    public var detectionPrecision: Double
    public var detectionRecall: Double
    public var detectionF1: Double
    public var pixelL1: Double
    /// Fraction of predictions kept.
    public var keptFraction: Double
    /// Matched L1 of each parameter (x, y, w, h, θ); their mean is `parameterL1`.
    public var parameterL1ByComponent: [Double] = []

    /// Names in CSV column order.
    public static let names = ["parameter_l1", "wasserstein", "decision_precision", "decision_recall", "decision_f1",
                               "detection_precision", "detection_recall", "detection_f1", "pixel_l1", "kept_fraction"]
    public var values: [Double] {
        [parameterL1, wasserstein, decisionPrecision, decisionRecall, decisionF1, detectionPrecision, detectionRecall,
         detectionF1, pixelL1, keptFraction]
    }
}

/// A model's figures beside its mean-prediction baseline.
public struct SyntheticValidationReport: Sendable, Equatable, Codable {
    public var model: SyntheticValidationMetrics
    public var baseline: SyntheticValidationMetrics
    public var patches: Int

    /// A printable table: one row per figure, model | baseline | model ÷ baseline.
    public var table: String {
        var lines = [String(format: "%-20@ %10@ %10@ %8@", "synthetic (\(patches))" as NSString, "model" as NSString,
                            "baseline" as NSString, "ratio" as NSString)]
        for (i, name) in SyntheticValidationMetrics.names.enumerated() {
            let m = model.values[i], b = baseline.values[i]
            lines.append(String(format: "%-20@ %10.4f %10.4f %8.3f", name as NSString, m, b, b != 0 ? m / b : .nan))
        }
        for (k, name) in ["x", "y", "w", "h", "theta"].enumerated() where model.parameterL1ByComponent.count == 5 {
            let m = model.parameterL1ByComponent[k], b = baseline.parameterL1ByComponent[k]
            lines.append(String(format: "%-20@ %10.4f %10.4f %8.3f", "  l1 \(name)" as NSString, m, b, b != 0 ? m / b : .nan))
        }
        return lines.joined(separator: "\n")
    }
}

/// A fixed synthetic set and the metrics above.
public struct SyntheticValidation {
    /// The set: `patches` synthetic (canvas, target) pairs drawn from `seed`.
    public let batch: StrokeBatch
    let renderer: DifferentiableStrokeRenderer

    /// The default set: 512 patches from a seed no training run uses (training seeds its data stream from
    /// `seed ^ 0xDA7A5EED00000001`).
    public init(patches: Int = 512, seed: UInt64 = 0x7A11_DA7E_5E7, brushes: BrushSet = .oilPaint(), strokesPerPatch: Int = 8) {
        precondition(patches > 0 && patches % 4 == 0, "[SyntheticValidation] patches \(patches) must be a positive multiple of 4")
        var rng = SplitMix64(seed: seed)
        batch = StrokeSynthesizer(brushes: brushes, strokesPerPatch: strokesPerPatch).makeBatch(batchSize: patches, using: &rng)
        renderer = DifferentiableStrokeRenderer(brushes: brushes)
    }

    /// Runs `network` (in eval mode; its mode is restored) on the set in chunks and scores it and its baseline.
    public func evaluate(_ network: StrokePredictorNetwork, chunk: Int = 128) -> SyntheticValidationReport {
        let wasTraining = network.training
        network.eval()
        defer { network.train(wasTraining) }
        let b = batch.batchSize, n = batch.strokesPerPatch, p = batch.patchSize, plane = 3 * p * p
        var shapes: [Float] = [], logits: [Float] = []
        for start in stride(from: 0, to: b, by: chunk) {
            let m = min(chunk, b - start)
            let image = Tensor(shape: [m, 3, p, p], floats: Array(batch.targets[(start * plane)..<((start + m) * plane)]))
            let canvas = Tensor(shape: [m, 3, p, p], floats: Array(batch.oldCanvases[(start * plane)..<((start + m) * plane)]))
            let out = network(image: image, canvas: canvas)
            Atelier.evaluate([out.shapes, out.logits])
            shapes += out.shapes.floats()
            logits += out.logits.floats()
        }
        // Baseline: each query's mean over the set, for every patch.
        var meanShapes = [Float](repeating: 0, count: n * 5), meanLogits = [Float](repeating: 0, count: n)
        for s in 0..<b {
            for i in 0..<n {
                for k in 0..<5 { meanShapes[i * 5 + k] += shapes[(s * n + i) * 5 + k] / Float(b) }
                meanLogits[i] += logits[s * n + i] / Float(b)
            }
        }
        let baseShapes = (0..<b).flatMap { _ in meanShapes }, baseLogits = (0..<b).flatMap { _ in meanLogits }
        return SyntheticValidationReport(model: score(shapes: shapes, logits: logits),
                                         baseline: score(shapes: baseShapes, logits: baseLogits), patches: b)
    }

    /// Scores predictions `shapes` [B, N, 5] and `logits` [B, N] against the set.
    public func score(shapes: [Float], logits: [Float]) -> SyntheticValidationMetrics {
        let b = batch.batchSize, n = batch.strokesPerPatch, p = batch.patchSize
        precondition(shapes.count == b * n * 5 && logits.count == b * n, "[SyntheticValidation] predictions do not fit the set")
        var l1Sum = 0.0, wSum = 0.0, pairs = 0
        var componentSums = [Double](repeating: 0, count: 5)
        var keptMatched = 0, kept = 0, matchedTotal = 0, hits = 0, valid = 0
        for s in 0..<b {
            let truth = (0..<n).filter { batch.validity[s * n + $0] > 0.5 }
            valid += truth.count
            guard !truth.isEmpty else {
                kept += (0..<n).filter { logits[s * n + $0] > 0 }.count
                continue
            }
            func stroke(_ values: [Float], _ i: Int) -> [Double] { (0..<5).map { Double(values[i * 5 + $0]) } }
            let predicted = (0..<n).map { stroke(shapes, s * n + $0) }
            let gt = truth.map { stroke(batch.params, s * n + $0) }
            var cost = [Double](repeating: 0, count: n * gt.count)
            var wTable = cost
            for i in 0..<n {
                for (j, g) in gt.enumerated() {
                    let w = Self.wasserstein(predicted[i], g)
                    let l1 = Self.strokeErrors(predicted[i], g).reduce(0, +)
                    wTable[i * gt.count + j] = w
                    cost[i * gt.count + j] = (l1 + w).isFinite ? l1 + w : 1e30
                }
            }
            let (rows, cols) = linearSumAssignment(cost, rows: n, columns: gt.count)
            var matchedRows = Set<Int>()
            for (r, c) in zip(rows, cols) {
                matchedRows.insert(r)
                let errors = Self.strokeErrors(predicted[r], gt[c])
                l1Sum += errors.reduce(0, +) / 5
                for k in 0..<5 { componentSums[k] += errors[k] }
                wSum += wTable[r * gt.count + c]
                pairs += 1
            }
            let keptRows = (0..<n).filter { logits[s * n + $0] > 0 }
            kept += keptRows.count
            matchedTotal += matchedRows.count
            keptMatched += keptRows.filter { matchedRows.contains($0) }.count
            if !keptRows.isEmpty {
                let sub = keptRows.flatMap { i in (0..<gt.count).map { j in Swift.min(wTable[i * gt.count + j], 1e30) } }
                let (kr, kc) = linearSumAssignment(sub.map { $0.isFinite ? $0 : 1e30 }, rows: keptRows.count, columns: gt.count)
                hits += zip(kr, kc).filter { sub[$0 * gt.count + $1] < Self.detectionThreshold }.count
            }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }
        func f1(_ p: Double, _ r: Double) -> Double { p + r > 0 ? 2 * p * r / (p + r) : 0 }
        let dp = ratio(keptMatched, kept), dr = ratio(keptMatched, matchedTotal)
        let hp = ratio(hits, kept), hr = ratio(hits, valid)
        return SyntheticValidationMetrics(
            parameterL1: pairs > 0 ? l1Sum / Double(pairs) : 0, wasserstein: pairs > 0 ? wSum / Double(pairs) : 0,
            decisionPrecision: dp, decisionRecall: dr, decisionF1: f1(dp, dr),
            detectionPrecision: hp, detectionRecall: hr, detectionF1: f1(hp, hr),
            pixelL1: pixelL1(shapes: shapes, logits: logits, patchSize: p), keptFraction: ratio(kept, b * n),
            parameterL1ByComponent: componentSums.map { pairs > 0 ? $0 / Double(pairs) : 0 })
    }

    /// Per-parameter absolute errors of `p` against `g` (x, y, w, h, θ), in whichever of `g`'s two equivalent forms
    /// is closer: (w, h, θ) and (h, w, θ + ½) describe the same ellipse, and θ is periodic with period 1 (180°).
    /// Without this, an exact prediction in the other form would count as wrong, and the best L1 guess for an
    /// ambiguous stroke would be the mean.
    public static func strokeErrors(_ p: [Double], _ g: [Double]) -> [Double] {
        func periodic(_ d: Double) -> Double { Swift.abs(d - (d + 0.5).rounded(.down)) }
        let direct = [Swift.abs(p[0] - g[0]), Swift.abs(p[1] - g[1]), Swift.abs(p[2] - g[2]), Swift.abs(p[3] - g[3]),
                      periodic(p[4] - g[4])]
        let swapped = [direct[0], direct[1], Swift.abs(p[2] - g[3]), Swift.abs(p[3] - g[2]), periodic(p[4] - g[4] - 0.5)]
        return swapped.reduce(0, +) < direct.reduce(0, +) ? swapped : direct
    }

    /// A detection hit needs W below this (squared 2-Wasserstein in patch units).
    public static let detectionThreshold = 0.01

    /// Squared 2-Wasserstein distance between two strokes' Gaussians (the loss's formula, in Double).
    public static func wasserstein(_ p: [Double], _ q: [Double]) -> Double {
        func sigma(_ s: [Double]) -> (a: Double, b: Double, c: Double) {
            let c = cos(Double.pi * s[4]), sn = sin(Double.pi * s[4])
            let w2 = s[2] * s[2] / 4, h2 = s[3] * s[3] / 4
            return (c * c * w2 + sn * sn * h2, c * sn * (w2 - h2), sn * sn * w2 + c * c * h2)
        }
        let a = sigma(p), b = sigma(q)
        let mean = (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1])
        let traceT = a.a * b.a + 2 * a.b * b.b + a.c * b.c
        let sqrtDet = Swift.abs(p[2] * p[3] * q[2] * q[3]) / 16
        return mean + (a.a + a.c) + (b.a + b.c) - 2 * Swift.max(traceT + 2 * sqrtDet, 0).squareRoot()
    }

    private func pixelL1(shapes: [Float], logits: [Float], patchSize p: Int) -> Double {
        let b = batch.batchSize, n = batch.strokesPerPatch
        let shapeTensor = Tensor(shape: [b, n, 5], floats: shapes)
        let target = Tensor(shape: [b, 3, p, p], floats: batch.targets)
        let old = Tensor(shape: [b, 3, p, p], floats: batch.oldCanvases)
        let colors = DifferentiableStrokeRenderer.sampleColors(target, at: shapeTensor)
        let (fg, alpha) = renderer.render(shapes: shapeTensor.reshaped([b * n, 5]), colors: colors.reshaped([b * n, 3]),
                                          height: p, width: p)
        let decisions = Tensor(shape: [b, n], floats: logits.map { $0 > 0 ? 1 : 0 })
        let reconstruction = DifferentiableStrokeRenderer.composite(canvas: old, foreground: fg, alpha: alpha, decisions: decisions)
        let loss = reconstruction.l1Loss(target)
        Atelier.evaluate([loss])
        return loss.item()
    }
}
