// Attention shapes of the project's models, plus generic transformer shapes.

struct Preset: Sendable {
    var name: String
    var batch: Int, heads: Int, tq: Int, tk: Int, d: Int
    /// TransGAN's generator adds a relative-position bias [H, Tq, Tk]; the others have none.
    var bias: Bool
    var bh: Int { batch * heads }
    /// 4·B·H·Tq·Tk·D: the two products Q·Kᵀ and P·V (2 flops per multiply-add each).
    var forwardFlops: Double { 4 * Double(bh) * Double(tq) * Double(tk) * Double(d) }
    /// The backward pass adds five products of the same size to the recomputed Q·Kᵀ: 2.5 × forward in all.
    var forwardBackwardFlops: Double { 2.5 * forwardFlops }

    /// The presets for batch size B (generic shapes keep their own batch).
    static func all(batch b: Int) -> [Preset] {
        [
            Preset(name: "transgan-gen-64x256", batch: b, heads: 4, tq: 64, tk: 64, d: 256, bias: true),
            Preset(name: "transgan-gen-256x64", batch: b, heads: 4, tq: 256, tk: 256, d: 64, bias: true),
            Preset(name: "transgan-gen-1024x16", batch: b, heads: 4, tq: 1024, tk: 1024, d: 16, bias: true),
            Preset(name: "transgan-disc-256x72", batch: b, heads: 4, tq: 256, tk: 256, d: 72, bias: false),
            Preset(name: "transgan-disc-64x96", batch: b, heads: 4, tq: 64, tk: 64, d: 96, bias: false),
            Preset(name: "transgan-disc-65x96", batch: b, heads: 4, tq: 65, tk: 65, d: 96, bias: false),
            Preset(name: "paint-encoder", batch: b, heads: 8, tq: 64, tk: 64, d: 32, bias: false),
            Preset(name: "paint-decoder-self", batch: b, heads: 8, tq: 8, tk: 8, d: 32, bias: false),
            Preset(name: "paint-decoder-cross", batch: b, heads: 8, tq: 8, tk: 64, d: 32, bias: false),
            Preset(name: "generic-8x8x1024x64", batch: 8, heads: 8, tq: 1024, tk: 1024, d: 64, bias: false),
            Preset(name: "generic-1x8x4096x64", batch: 1, heads: 8, tq: 4096, tk: 4096, d: 64, bias: false),
        ]
    }
}
