// Shapes and layouts of the TransGAN building blocks: relative-position index, pixel-shuffle upsampling,
// grid attention locality, DiffAugment invariants, and the 64×64 grid-attention configuration.
import Testing
import Atelier
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct ModelTests {
    @Test func relativePositionIndexMatchesReference() {
        // Reference §1, w = 8: idx((0,0),(7,7)) = 0; idx(i,i) = 112; idx((7,7),(0,0)) = 224;
        // idx((0,1),(0,0)) = 113; idx((1,0),(0,0)) = 127.
        let w = 8, n = 64
        let idx = relativePositionIndex(window: w)
        func at(_ a: (Int, Int), _ b: (Int, Int)) -> Int { idx[(a.0 * w + a.1) * n + (b.0 * w + b.1)] }
        #expect(idx.count == n * n)
        #expect(at((0, 0), (7, 7)) == 0)
        #expect((0..<n).allSatisfy { idx[$0 * n + $0] == 112 })
        #expect(at((7, 7), (0, 0)) == 224)
        #expect(at((0, 1), (0, 0)) == 113)
        #expect(at((1, 0), (0, 0)) == 127)
        #expect(Set(idx).count == 225)
    }

    @Test func relativeBiasGathersTable() throws {
        let g = RandomGenerator(seed: 3)
        let attn = GridAttention(dim: 8, heads: 2, side: 3, window: 3, noise: false, init: .generator, dtype: .float64, rng: g)
        let table = attn.biasTable!.tensor.doubles()                    // [(2·3−1)², 2]
        let bias = attn.relativeBias()!.doubles()                        // [2, 9, 9]
        let idx = relativePositionIndex(window: 3)
        for h in 0..<2 { for i in 0..<9 { for j in 0..<9 {
            #expect(bias[(h * 9 + i) * 9 + j] == table[idx[i * 9 + j] * 2 + h])
        } } }
    }

    @Test func pixelUpsampleLayout() {
        // Tokens [1, H·W, C] with C = 8, H = W = 2; out[c, 2h+i, 2w+j] = in[4c+2i+j, h, w].
        let (h, w, c) = (2, 2, 8)
        let values = (0..<(h * w * c)).map(Double.init)                  // token t, channel k → t·C + k
        let x = Tensor(shape: [1, h * w, c], values: values, dtype: .float64)
        let y = pixelUpsample(x, side: 2).doubles()                      // [1, 16, 2]
        for oc in 0..<2 { for oy in 0..<4 { for ox in 0..<4 {
            let (hh, i, ww, j) = (oy / 2, oy % 2, ox / 2, ox % 2)
            let inChannel = 4 * oc + 2 * i + j, token = hh * w + ww
            #expect(y[(oy * 4 + ox) * 2 + oc] == values[token * c + inChannel])
        } } }
    }

    @Test func gridAttentionKeepsWindowsApart() {
        // One attention layer on an 8×8 grid with 4×4 windows: changing tokens in the top-left window changes
        // outputs only in that window.
        let g = RandomGenerator(seed: 4)
        let attn = GridAttention(dim: 8, heads: 2, side: 8, window: 4, noise: false, init: .generator, dtype: .float64, rng: g)
        let x = Tensor.normal([1, 64, 8], dtype: .float64, rng: g).materialized()
        var changed = x.doubles()
        for t in [0, 1, 8, 9, 27] { for k in 0..<8 { changed[t * 8 + k] += 1.5 } }   // tokens in window (0, 0)
        let a = attn(x, rng: nil).doubles()
        let b = attn(Tensor(shape: [1, 64, 8], values: changed, dtype: .float64), rng: nil).doubles()
        for t in 0..<64 {
            let inWindow = (t / 8) < 4 && (t % 8) < 4
            let diff = maxAbsDifference(a[(t * 8)..<(t * 8 + 8)], b[(t * 8)..<(t * 8 + 8)])
            if inWindow { #expect(diff > 1e-6, "token \(t) should change") } else { #expect(diff == 0, "token \(t) changed by \(diff)") }
        }
    }

    @Test func grid64GeneratorUsesWindowsAndRuns() throws {
        let cfg = TransGANConfiguration.grid64
        #expect(cfg.stageWindows == [16, 32, 16])
        let g = RandomGenerator(seed: 5)
        let gen = try Generator(cfg, rng: g)
        let images = gen(Tensor.normal([1, cfg.latentDim], rng: g))
        #expect(images.shape == [1, 3, 64, 64])
        let finite = images.floats().allSatisfy { $0.isFinite }
        #expect(finite)
        let d = try Discriminator(cfg, rng: g)
        #expect(d(images, rng: g).shape == [1, 1])
    }

    /// Skip images: with zero token → image maps the output is the plain generator's, bit for bit; with only
    /// biases b₁, b₂ the bilinear ×2 resizes carry the constants through, so the output moves by b₁ + b₂.
    @Test func imageSkipsAddUpsampledStageImages() throws {
        var cfg = TransGANConfiguration.micro.with(channels: 1)
        let plain = try Generator(cfg, rng: RandomGenerator(seed: 8))
        cfg.imageSkips = true
        let skips = try Generator(cfg, rng: RandomGenerator(seed: 9))
        #expect(skips.parameterCount == cfg.generatorParameterCount)
        #expect(skips.parameterCount == plain.parameterCount + (128 + 32) * 1 + 2)
        #expect(skips.namedParameters().map(\.0).filter { $0.hasPrefix("to_image") }
                == ["to_image_1.weight", "to_image_1.bias", "to_image_2.weight", "to_image_2.bias"])
        let shared = Dictionary(uniqueKeysWithValues: plain.namedParameters())
        for (name, p) in skips.namedParameters() {
            if let q = shared[name] { p.assign(from: q) } else { p.assign([Float](repeating: 0, count: p.count)) }
        }
        let z = Tensor.normal([2, cfg.latentDim], rng: RandomGenerator(seed: 10))
        let reference = plain(z).floats()
        #expect(skips(z).floats() == reference)
        skips.toImage[0].bias!.assign([0.25])
        skips.toImage[1].bias!.assign([-0.5])
        #expect(maxAbsDifference(skips(z).floats(), reference.map { $0 - 0.25 }) < 1e-5)
    }

    @Test func translationKeepsPixelValues() {
        let g = RandomGenerator(seed: 6)
        let x = Tensor.uniform([4, 3, 8, 8], low: 0.1, high: 1, dtype: .float64, rng: g).materialized()
        let shifts = [(0, 0), (2, -1), (-3, 3), (1, 1)]
        let y = DiffAugment.translate(x, shifts: shifts).doubles(), xs = x.doubles()
        for n in 0..<4 {
            let src = Set(xs[(n * 192)..<((n + 1) * 192)])
            for v in y[(n * 192)..<((n + 1) * 192)] { #expect(v == 0 || src.contains(v)) }
            let (dy, dx) = shifts[n]
            // Pixel (i, j) of the output equals input (i + dy, j + dx).
            for c in 0..<3 { for i in 0..<8 { for j in 0..<8 {
                let (si, sj) = (i + dy, j + dx)
                let expected = si >= 0 && si < 8 && sj >= 0 && sj < 8 ? xs[((n * 3 + c) * 8 + si) * 8 + sj] : 0
                #expect(y[((n * 3 + c) * 8 + i) * 8 + j] == expected)
            } } }
        }
        // Random shifts stay within ±⌊0.2·S + ½⌋.
        let r = DiffAugment.translate(x, ratio: 0.2, rng: g).doubles()
        #expect(r.count == xs.count)
    }

    @Test func cutoutZeroesASquare() {
        let x = Tensor.ones([2, 1, 16, 16], dtype: .float64)
        let y = DiffAugment.cutout(x, centres: [(8, 8), (0, 15)], size: (8, 8)).doubles()
        // Sample 0: rows and columns 4..<12 are zero (64 pixels).
        let zeros0 = (0..<256).filter { y[$0] == 0 }
        #expect(zeros0.count == 64)
        #expect(zeros0.allSatisfy { ($0 / 16) >= 4 && ($0 / 16) < 12 && ($0 % 16) >= 4 && ($0 % 16) < 12 })
        // Sample 1: clipped at the corner: rows 0..<4, columns 11..<16 → 20 pixels.
        #expect((256..<512).filter { y[$0] == 0 }.count == 20)
        // The batch-wide coin: probability 1 always cuts, 0 never does.
        let g = RandomGenerator(seed: 8)
        let always = DiffAugment.cutout(Tensor.ones([3, 1, 16, 16], dtype: .float64), probability: 1, ratio: 0.5, rng: g).doubles()
        #expect(always.filter { $0 == 0 }.count >= 3 * 16)
        let never = DiffAugment.cutout(Tensor.ones([3, 1, 16, 16], dtype: .float64), probability: 0, ratio: 0.5, rng: g).doubles()
        #expect(never.allSatisfy { $0 == 1 })
    }

    @Test func colourChangesPerSample() {
        let g = RandomGenerator(seed: 9)
        // Identical samples get different colour factors.
        let one = Tensor.uniform([1, 3, 8, 8], low: -1, high: 1, dtype: .float64, rng: g).materialized()
        let x = Tensor.concat([one, one, one, one], axis: 0)
        let y = DiffAugment.color(x, rng: g).doubles()
        let per = (0..<4).map { Array(y[($0 * 192)..<(($0 + 1) * 192)]) }
        for a in 0..<4 { for b in (a + 1)..<4 { #expect(per[a] != per[b]) } }
        // Fresh draws per call.
        #expect(DiffAugment.color(x, rng: g).doubles() != y)
    }

}
}
