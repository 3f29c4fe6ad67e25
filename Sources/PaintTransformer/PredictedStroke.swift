// The predictor interface: what the stroke network returns for each patch, and the closure type through which
// the painter calls it (so the network plugs in without the painter depending on the engine).

/// One stroke as the network predicts it for a 32×32 patch: 5 shape parameters (patch-normalised, reference
/// §1) and the decision logit (drawn iff > 0). The colour is not predicted; the painter samples it.
public struct PredictedStroke: Sendable, Equatable, Codable {
    /// Shape in patch-normalised units (raw head outputs, no activation).
    public var x: Float
    public var y: Float
    public var w: Float
    public var h: Float
    public var theta: Float
    /// Decision logit: the stroke is drawn iff it is > 0.
    public var decision: Float

    /// Creates a prediction from its five shape values and decision logit.
    public init(x: Float, y: Float, w: Float, h: Float, theta: Float, decision: Float) {
        self.x = x
        self.y = y
        self.w = w
        self.h = h
        self.theta = theta
        self.decision = decision
    }

    /// Joins the network's two heads into strokes.
    /// - Parameters:
    ///   - shapes: `linear_param` output, [count, 5] (x, y, w, h, θ per stroke).
    ///   - logits: `linear_decider` output, [count].
    public static func strokes(shapes: [Float], logits: [Float]) -> [PredictedStroke] {
        precondition(
            shapes.count == 5 * logits.count,
            "[PredictedStroke.strokes] shapes [\(shapes.count)] must be 5 × logits [\(logits.count)]")
        return logits.indices.map { i in
            PredictedStroke(
                x: shapes[5 * i], y: shapes[5 * i + 1], w: shapes[5 * i + 2], h: shapes[5 * i + 3],
                theta: shapes[5 * i + 4], decision: logits[i])
        }
    }
}

/// Predicts strokes for a batch of patches.
/// - Parameters:
///   - targets: image patches, [count, 3, 32, 32].
///   - canvases: current-canvas patches, [count, 3, 32, 32].
///   - count: number of patches.
/// - Returns: `count × strokesPerPatch` strokes, patch-major.
public typealias StrokePredictor = (_ targets: [Float], _ canvases: [Float], _ count: Int) throws -> [PredictedStroke]
