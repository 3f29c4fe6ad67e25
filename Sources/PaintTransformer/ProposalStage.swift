import Atelier

// The proposal stage of the `proposals` query design: a dense head on the encoder's 8×8 token grid proposes one
// stroke per token, the N most confident tokens become the decoder's queries, and the decoder refines their strokes.
//
// Why: the reference's N learned queries start identical in effect and must discover, through Hungarian matching
// alone, how to tie themselves to image content; for thousands of steps they output one content-independent
// template (the "mean prediction" stage of DETR-style set predictors). Here every token is supervised directly —
// the ground-truth stroke whose centre falls in a token's cell is that token's target (CenterNet-style) — so content
// reaches the predictions from the first steps, and each query starts at a stroke the image shows.
//
//   dense  [B, 64, 6]: x, y as offsets from the cell centre (÷ 8, so ±1 spans a cell), w, h, θ, objectness
//   top-N  one-hot [B, N, 64] (detached), ordered by ascending objectness: the surest stroke is drawn last (on top),
//          as the top-most ground-truth strokes are the ones the image shows whole
//   query  gathered token + Linear(5 → d) of its proposed stroke; the decoder's output is a correction to it

/// Dense stroke proposals, one per encoder token.
final class ProposalHead: Module, @unchecked Sendable {
    let head: ParameterHead
    let grid: Int

    init(width: Int, grid: Int, rng: RandomGenerator) {
        head = ParameterHead(width: width, outputs: PaintTransformerConfiguration.parametersPerStroke + 1, rng: rng)
        self.grid = grid
        super.init()
        register("head", head)
    }

    /// Cell centres (x, y) of the `grid²` tokens in row-major order, [1, grid², 2].
    static func cellCentres(grid: Int, dtype: DType = .float32) -> Tensor {
        var values: [Double] = []
        for i in 0..<grid { for j in 0..<grid { values += [(Double(j) + 0.5) / Double(grid), (Double(i) + 0.5) / Double(grid)] } }
        return Tensor(shape: [1, grid * grid, 2], values: values, dtype: dtype)
    }

    /// Mean of the synthetic distribution (w, h ~ 0.2 + 0.5·U, θ ~ U): the proposals start there.
    static let shapePrior: [Double] = [0.45, 0.45, 0.5]
    /// Objectness starts at logit −2.2 (probability 0.1 ≈ 6 strokes among 64 cells).
    static let objectnessPrior = -2.2

    /// `memory` [B, T, d] → strokes [B, T, 5] (absolute x, y, w, h, θ) and objectness logits [B, T].
    func callAsFunction(_ memory: Tensor) -> (strokes: Tensor, objectness: Tensor) {
        let (b, t) = (memory.shape[0], memory.shape[1])
        let raw = head(memory)                                                         // [B, T, 6]
        let centres = Self.cellCentres(grid: grid, dtype: raw.dtype)                   // [1, T, 2]
        let position = centres + raw.sliced(axis: 2, 0, 2) * (1 / Double(grid))       // [B, T, 2]
        let prior = Tensor(shape: [1, 1, 3], values: Self.shapePrior, dtype: raw.dtype)
        let shape = raw.sliced(axis: 2, 2, 5) + prior                                  // [B, T, 3]
        let objectness = raw.sliced(axis: 2, 5, 6).reshaped([b, t]) + Self.objectnessPrior
        return (Tensor.concat([position, shape], axis: 2), objectness)
    }

    /// One-hot selection of the `count` highest-objectness tokens per sample, [B, count, T], rows in ascending
    /// objectness (ties: lower token index first). No gradient.
    static func selectTop(_ objectness: Tensor, count: Int) -> Tensor {
        let (b, t) = (objectness.shape[0], objectness.shape[1])
        shapeCheck(count <= t, "ProposalHead.selectTop", "\(count) queries from \(t) tokens")
        return Tensor.hostOp("top-proposals", [objectness.detached()], outputShapes: [[b, count, t]], dtype: objectness.dtype) { args in
            let scores = args[0].values
            var out = [Double](repeating: 0, count: b * count * t)
            for s in 0..<b {
                // NaN scores sort last so a diverged network still yields a valid selection.
                let order = (0..<t).sorted { i, j in
                    let a = scores[s * t + i], c = scores[s * t + j]
                    let ka = a.isNaN ? -Double.infinity : a, kc = c.isNaN ? -Double.infinity : c
                    return ka != kc ? ka > kc : i < j
                }
                for (row, token) in order.prefix(count).reversed().enumerated() {
                    out[(s * count + row) * t + token] = 1
                }
            }
            return [HostArray(shape: [b, count, t], values: out)]
        }[0]
    }

    /// Dense targets from ground truth `gt` [B, N, 5] and `validity` [B, N]: each valid stroke belongs to the cell
    /// holding its centre; when two share a cell the later one (drawn on top) wins. Returns targets [B, T, 5] and
    /// the positive mask [B, T]. No gradient.
    static func targets(groundTruth gt: Tensor, validity: Tensor, grid: Int) -> (strokes: Tensor, positive: Tensor) {
        let (b, n) = (gt.shape[0], gt.shape[1])
        let t = grid * grid
        let outs = Tensor.hostOp("proposal-targets", [gt.detached(), validity.detached()], outputShapes: [[b, t, 5], [b, t]],
                                 dtype: gt.dtype) { args in
            let strokes = args[0].values, valid = args[1].values
            var target = [Double](repeating: 0.5, count: b * t * 5)
            var positive = [Double](repeating: 0, count: b * t)
            for s in 0..<b {
                for i in 0..<n where valid[s * n + i] > 0.5 {
                    let o = (s * n + i) * 5
                    let col = min(max(Int((strokes[o] * Double(grid)).rounded(.down)), 0), grid - 1)
                    let row = min(max(Int((strokes[o + 1] * Double(grid)).rounded(.down)), 0), grid - 1)
                    let cell = s * t + row * grid + col
                    positive[cell] = 1
                    for k in 0..<5 { target[cell * 5 + k] = strokes[o + k] }
                }
            }
            return [HostArray(shape: [b, t, 5], values: target), HostArray(shape: [b, t], values: positive)]
        }
        return (outs[0], outs[1])
    }
}
