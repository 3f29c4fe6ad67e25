import Atelier

// The stroke predictor (reference §3, Huage001 networks.py `Painter`): two CNN encoders (target and canvas) →
// 1×1 fuse conv → 64 tokens + a learned row/column position embedding (added once, to the encoder input) →
// PyTorch `nn.Transformer` (post-norm, ReLU, final LayerNorms, no masks) with the 8 learned `query_pos` vectors as
// the decoder input → per-query MLP for the 5 shape parameters and a linear decision logit.
//
// Parameter names are the PyTorch state_dict keys, so the official `model.pth` converts by renaming nothing:
// enc_img.{1,2,5,6,9,10}.*, enc_canvas.*, conv.*, transformer.{encoder,decoder}.layers.i.*,
// transformer.{encoder,decoder}.norm.*, linear_param.{0,2,4}.*, linear_decider.*, query_pos, row_embed, col_embed.
// Layout is batch-first ([B, T, E]) inside; PyTorch's seq-first order only matters for weights, which match.

/// How the decoder's queries are made.
public enum QueryDesign: String, Sendable, Equatable, Codable {
    /// The reference: N learned `query_pos` vectors, the same for every patch.
    case learned
    /// Dense per-token stroke proposals; the N most confident tokens are the queries and the decoder refines
    /// their strokes (ProposalStage.swift).
    case proposals
}

/// Sizes of a stroke predictor.
public struct PaintTransformerConfiguration: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Name used by `--config` and stored in checkpoints.
    public var name: String
    /// Output channels of the three encoder convolutions (strides 1, 2, 2).
    public var encoderChannels: [Int]
    /// Transformer width (d_model); also the fuse conv's output.
    public var hiddenDimension: Int
    public var heads: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    /// FFN width inside each transformer layer.
    public var feedForward: Int
    public var dropout: Double
    /// Queries = strokes per patch.
    public var strokesPerPatch: Int
    /// Learned queries (the reference) or dense proposals.
    public var queries: QueryDesign = .learned

    /// Side of the input patches; the encoders reduce it 4× to an 8×8 token grid.
    public static let patchSize = 32
    /// Shape parameters per stroke (x, y, w, h, θ).
    public static let parametersPerStroke = 5

    /// The reference network (9,072,902 parameters).
    public static let paper = PaintTransformerConfiguration(
        name: "paper", encoderChannels: [32, 64, 128], hiddenDimension: 256, heads: 8, encoderLayers: 3,
        decoderLayers: 3, feedForward: 2048, dropout: 0.1, strokesPerPatch: 8)

    /// The CPU configuration the project trains and ships (1,026,182 parameters, ≈9× fewer FLOPs per patch).
    ///
    /// Why these sizes: 75 % of the paper network's 0.69 GFLOP per patch is its 3 encoder layers, mostly the
    /// 2048-wide FFN over 64 tokens; the task (8 strokes from a 32×32 patch) is small. Halving d to 128 (4 heads of
    /// 32, the paper's head size), 2+2 layers, FFN 4·d = 512 and CNN widths 16/32/64 cuts a training step at batch
    /// 64 to ≈15 GFLOP, and a 512² painting (630 patches) to ≈50 GFLOP instead of 434. Dropout is 0: every step
    /// draws fresh synthetic data, so there is nothing to overfit, and without it attention takes the fused kernel.
    public static let small = PaintTransformerConfiguration(
        name: "small", encoderChannels: [16, 32, 64], hiddenDimension: 128, heads: 4, encoderLayers: 2,
        decoderLayers: 2, feedForward: 512, dropout: 0, strokesPerPatch: 8)

    /// `small` with dense proposals as queries: the configuration the project trains and ships. It drops the
    /// learned `query_pos` and adds the proposal head and the proposal embedding (1,085,703 parameters).
    public static let smallProposals = PaintTransformerConfiguration(
        name: "small-proposals", encoderChannels: [16, 32, 64], hiddenDimension: 128, heads: 4, encoderLayers: 2,
        decoderLayers: 2, feedForward: 512, dropout: 0, strokesPerPatch: 8, queries: .proposals)

    /// A tiny configuration for tests.
    public static let tiny = PaintTransformerConfiguration(
        name: "tiny", encoderChannels: [8, 8, 16], hiddenDimension: 32, heads: 2, encoderLayers: 1,
        decoderLayers: 1, feedForward: 64, dropout: 0.1, strokesPerPatch: 8)

    /// `tiny` with dense proposals, for tests.
    public static let tinyProposals = PaintTransformerConfiguration(
        name: "tiny-proposals", encoderChannels: [8, 8, 16], hiddenDimension: 32, heads: 2, encoderLayers: 1,
        decoderLayers: 1, feedForward: 64, dropout: 0.1, strokesPerPatch: 8, queries: .proposals)

    /// The configurations `--config` accepts.
    public static let named: [String: PaintTransformerConfiguration] = [
        "paper": .paper, "small": .small, "small-proposals": .smallProposals, "tiny": .tiny, "tiny-proposals": .tinyProposals,
    ]
    /// Their names, for messages.
    public static var namesList: String { named.keys.sorted().joined(separator: ", ") }

    public var description: String {
        "\(name) (CNN \(encoderChannels.map(String.init).joined(separator: "/")), d=\(hiddenDimension), "
            + "\(heads) heads, \(encoderLayers)+\(decoderLayers) layers, FFN \(feedForward), \(queries.rawValue) queries)"
    }
}

/// ReflectionPad(1) → Conv3×3 → BatchNorm → ReLU, three times (strides 1, 2, 2). Children are named by their
/// index in the reference's `nn.Sequential` (1, 2, 5, 6, 9, 10; pads and ReLUs hold no parameters).
final class ConvEncoder: Module, @unchecked Sendable {
    let convs: [Conv2d]
    let norms: [BatchNorm2d]

    init(channels: [Int], rng: RandomGenerator) {
        let inputs = [3] + channels.dropLast()
        convs = (0..<3).map { Conv2d(inputs[$0], channels[$0], kernel: 3, stride: $0 == 0 ? 1 : 2, rng: rng) }
        norms = channels.map { BatchNorm2d($0) }
        super.init()
        for i in 0..<3 {
            register("\(4 * i + 1)", convs[i])
            register("\(4 * i + 2)", norms[i])
        }
    }

    /// [B, 3, 32, 32] → [B, C, 8, 8]
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for i in 0..<3 { h = norms[i](convs[i](h.reflectionPadded2d(1))).relu() }
        return h
    }
}

/// `nn.TransformerEncoder` / `nn.TransformerDecoder` state names: `layers.i.*` and the final `norm.*`.
final class TransformerStack<Layer: Module>: Module, @unchecked Sendable {
    let layers: ModuleList<Layer>
    let norm: LayerNorm
    init(_ layers: [Layer], width: Int) {
        self.layers = ModuleList(layers)
        norm = LayerNorm(width)
        super.init()
        register("layers", self.layers)
        register("norm", norm)
    }
}

/// `nn.Transformer`'s parameter tree: `encoder` and `decoder`.
final class EncoderDecoder: Module, @unchecked Sendable {
    let encoder: TransformerStack<TransformerEncoderLayer>
    let decoder: TransformerStack<TransformerDecoderLayer>
    init(_ c: PaintTransformerConfiguration, rng: RandomGenerator) {
        let d = c.hiddenDimension
        encoder = TransformerStack((0..<c.encoderLayers).map { _ in
            TransformerEncoderLayer(dModel: d, heads: c.heads, feedForward: c.feedForward, dropout: c.dropout, rng: rng)
        }, width: d)
        decoder = TransformerStack((0..<c.decoderLayers).map { _ in
            TransformerDecoderLayer(dModel: d, heads: c.heads, feedForward: c.feedForward, dropout: c.dropout, rng: rng)
        }, width: d)
        super.init()
        register("encoder", encoder)
        register("decoder", decoder)
    }

    /// `source` [B, S, E] → memory [B, S, E]
    func encode(_ source: Tensor) -> Tensor {
        var memory = source
        for layer in encoder.layers.items { memory = layer(memory) }
        return encoder.norm(memory)
    }

    /// `target` [B, T, E] attending to `memory` [B, S, E] → [B, T, E]
    func decode(_ target: Tensor, memory: Tensor) -> Tensor {
        var h = target
        for layer in decoder.layers.items { h = layer(h, memory: memory) }
        return decoder.norm(h)
    }
}

/// Linear → ReLU → Linear → ReLU → Linear, named 0, 2, 4 like the reference's `nn.Sequential`.
final class ParameterHead: Module, @unchecked Sendable {
    let layers: [Linear]
    init(width: Int, outputs: Int, rng: RandomGenerator) {
        layers = [Linear(width, width, rng: rng), Linear(width, width, rng: rng),
                  Linear(width, outputs, rng: rng)]
        super.init()
        for (i, l) in layers.enumerated() { register("\(2 * i)", l) }
    }
    func callAsFunction(_ x: Tensor) -> Tensor { layers[2](layers[1](layers[0](x).relu()).relu()) }
}

/// What the predictor outputs for a batch of patches.
public struct StrokePrediction {
    /// Stroke shapes [B, N, 5] (x, y, w, h, θ, patch-normalised).
    public var shapes: Tensor
    /// Decision logits [B, N]: a stroke is drawn iff its logit is > 0.
    public var logits: Tensor
    /// The `proposals` design's dense per-token strokes [B, T, 5] and objectness logits [B, T] (nil for `learned`).
    public var proposals: (strokes: Tensor, objectness: Tensor)?
}

/// The Paint Transformer stroke predictor.
public final class StrokePredictorNetwork: Module, @unchecked Sendable {
    public let configuration: PaintTransformerConfiguration
    let encImg: ConvEncoder, encCanvas: ConvEncoder
    let conv: Conv2d
    let transformer: EncoderDecoder
    let linearParam: ParameterHead
    let linearDecider: Linear
    let rowEmbed: Parameter, colEmbed: Parameter
    /// `learned`: the N decoder inputs.
    let queryPos: Parameter?
    /// `proposals`: the dense head and the embedding of a proposed stroke added to its token.
    let proposalHead: ProposalHead?
    let proposalEmbed: Linear?
    /// Draws the initial weights and, in training mode, every dropout mask (its state goes into checkpoints).
    public let rng: RandomGenerator

    /// Builds the network with the reference's training initialisation: Conv/Linear weights (including the
    /// attention output projections and FFNs) ~ N(0, 0.02) with zero bias, BatchNorm γ ~ N(1, 0.02) and β = 0,
    /// the packed attention input projections Xavier-uniform (nn.Transformer's own init), LayerNorms (1, 0),
    /// `query_pos`, `row_embed`, `col_embed` ~ U[0, 1).
    public init(configuration c: PaintTransformerConfiguration, rng: RandomGenerator) {
        configuration = c
        self.rng = rng
        let d = c.hiddenDimension
        let grid = PaintTransformerConfiguration.patchSize / 4
        encImg = ConvEncoder(channels: c.encoderChannels, rng: rng)
        encCanvas = ConvEncoder(channels: c.encoderChannels, rng: rng)
        conv = Conv2d(2 * c.encoderChannels[2], d, kernel: 1, rng: rng)
        transformer = EncoderDecoder(c, rng: rng)
        linearParam = ParameterHead(width: d, outputs: PaintTransformerConfiguration.parametersPerStroke, rng: rng)
        linearDecider = Linear(d, 1, rng: rng)
        switch c.queries {
        case .learned:
            queryPos = Parameter(Initializer.uniform([c.strokesPerPatch, d], 0, 1, rng: rng))
            proposalHead = nil
            proposalEmbed = nil
        case .proposals:
            queryPos = nil
            proposalHead = ProposalHead(width: d, grid: grid, rng: rng)
            proposalEmbed = Linear(PaintTransformerConfiguration.parametersPerStroke, d, rng: rng)
        }
        rowEmbed = Parameter(Initializer.uniform([grid, d / 2], 0, 1, rng: rng))
        colEmbed = Parameter(Initializer.uniform([grid, d / 2], 0, 1, rng: rng))
        super.init()
        register("enc_img", encImg)
        register("enc_canvas", encCanvas)
        register("conv", conv)
        register("transformer", transformer)
        register("linear_param", linearParam)
        register("linear_decider", linearDecider)
        if let queryPos { register("query_pos", queryPos) }
        if let proposalHead, let proposalEmbed {
            register("proposal", proposalHead)
            register("proposal_embed", proposalEmbed)
        }
        register("row_embed", rowEmbed)
        register("col_embed", colEmbed)
        applyReferenceInitialization()
    }

    private func applyReferenceInitialization() {
        func normal(_ p: Parameter, mean: Double, std: Double) {
            p.assign(Initializer.normal(p.shape, mean: mean, std: std, rng: rng).floats())
        }
        func zero(_ p: Parameter?) { if let p { p.assign([Float](repeating: 0, count: p.count)) } }
        for (name, p) in namedParameters() {
            if name.hasSuffix("in_proj_weight") || name.hasSuffix("in_proj_bias") { continue }  // MHA keeps its init
            if name.hasPrefix("transformer.") && name.contains("norm") { continue }         // LayerNorm (1, 0)
            if name == "query_pos" || name == "row_embed" || name == "col_embed" { continue }
            let isBatchNorm = name.hasPrefix("enc_") && (name.contains(".2.") || name.contains(".6.") || name.contains(".10."))
            if name.hasSuffix(".weight") {
                normal(p, mean: isBatchNorm ? 1 : 0, std: 0.02)
            } else if name.hasSuffix(".bias") {
                zero(p)
            }
        }
    }

    /// Predicts strokes for a batch of patches.
    /// - Parameters:
    ///   - image: target patches, [B, 3, 32, 32].
    ///   - canvas: current canvases, [B, 3, 32, 32].
    /// - Returns: `shapes` [B, N, 5] (raw x, y, w, h, θ) and decision `logits` [B, N].
    public func callAsFunction(image: Tensor, canvas: Tensor) -> (shapes: Tensor, logits: Tensor) {
        let prediction = predict(image: image, canvas: canvas)
        return (prediction.shapes, prediction.logits)
    }

    /// Predicts strokes (and, for the `proposals` design, the dense proposals the training loss needs).
    public func predict(image: Tensor, canvas: Tensor) -> StrokePrediction {
        let p = PaintTransformerConfiguration.patchSize
        shapeCheck(image.rank == 4 && image.shape[1...] == [3, p, p] && canvas.shape == image.shape,
                   "StrokePredictorNetwork", "image \(image.shape) and canvas \(canvas.shape) must both be [B, 3, \(p), \(p)]")
        let c = configuration
        let b = image.shape[0], d = c.hiddenDimension, grid = p / 4, tokens = grid * grid
        let features = Tensor.concat([encImg(image), encCanvas(canvas)], axis: 1)      // [B, 2C, 8, 8]
        let fused = conv(features)                                                        // [B, d, 8, 8]
        let sequence = fused.reshaped([b, d, tokens]).permuted([0, 2, 1])                // [B, 64, d]
        // pos[i·8 + j] = concat(col_embed[j], row_embed[i])
        let cols = colEmbed.tensor.unsqueezed(0).expanded(to: [grid, grid, d / 2])        // [8 (i), 8 (j), d/2]
        let rows = rowEmbed.tensor.unsqueezed(1).expanded(to: [grid, grid, d / 2])
        let position = Tensor.concat([cols, rows], axis: 2).reshaped([1, tokens, d])      // [1, 64, d]
        let memory = transformer.encode(sequence + position)                              // [B, 64, d]
        if let queryPos {
            let queries = queryPos.tensor.unsqueezed(0).expanded(to: [b, c.strokesPerPatch, d])  // [B, N, d]
            let hidden = transformer.decode(queries, memory: memory)                          // [B, N, d]
            return StrokePrediction(shapes: linearParam(hidden),                              // [B, N, 5]
                                    logits: linearDecider(hidden).reshaped([b, c.strokesPerPatch]), proposals: nil)
        }
        let (proposed, objectness) = proposalHead!(memory)                               // [B, 64, 5], [B, 64]
        let selection = ProposalHead.selectTop(objectness, count: c.strokesPerPatch)      // [B, N, 64]
        let reference = selection.matmul(proposed.detached())                            // [B, N, 5]
        let queries = selection.matmul(memory) + proposalEmbed!(reference)                // [B, N, d]
        let hidden = transformer.decode(queries, memory: memory)                          // [B, N, d]
        return StrokePrediction(shapes: reference + linearParam(hidden),
                                logits: linearDecider(hidden).reshaped([b, c.strokesPerPatch]),
                                proposals: (proposed, objectness))
    }
}
