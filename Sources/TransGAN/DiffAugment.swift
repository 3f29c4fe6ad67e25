// DiffAugment as differentiable graph ops (reference §2): translation (per-sample integer shifts up to
// ratio·S, zero fill), cutout (one batch-wide coin with p = 0.3; then a (S/2)×(S/2) zero square per sample,
// clipped at the borders), colour (brightness, saturation, contrast; one factor per sample), in that order.
// Random parameters are drawn from the generator at graph-build time, so every call draws afresh and a
// run is reproducible from (seed, offset). Every piece is a gather, a mask multiply or an affine map of
// per-sample constants, so first and second derivatives flow through (the gradient penalty needs that).
import Atelier

public struct DiffAugment: Sendable, Equatable {
    public var translation: Bool
    public var cutout: Bool
    public var color: Bool
    /// Largest shift as a fraction of the side (0.2 → ±6 px at 32).
    public var translationRatio: Double = 0.2
    /// Probability that cutout fires for the whole batch.
    public var cutoutProbability: Double = 0.3
    /// Cutout square side as a fraction of the image side.
    public var cutoutRatio: Double = 0.5

    public init(translation: Bool, cutout: Bool, color: Bool) {
        self.translation = translation
        self.cutout = cutout
        self.color = color
    }

    /// `translation,cutout,color`, the official CIFAR-10 policy.
    public static let official = DiffAugment(translation: true, cutout: true, color: true)
    public static let none = DiffAugment(translation: false, cutout: false, color: false)

    /// Parses a comma-separated policy (`translation,cutout,color`, or `none`).
    public init(policy: String) throws(ConfigurationError) {
        self = .none
        for part in policy.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            switch part {
            case "translation": translation = true
            case "cutout": cutout = true
            case "color", "colour": color = true
            case "none": break
            default: throw .invalid(config: "augment", "unknown DiffAugment policy '\(part)' (use translation,cutout,color)")
            }
        }
    }

    /// Augments `[B, C, H, W]`.
    public func apply(_ x: Tensor, rng: RandomGenerator) -> Tensor {
        var x = x
        if translation { x = Self.translate(x, ratio: translationRatio, rng: rng) }
        if cutout { x = Self.cutout(x, probability: cutoutProbability, ratio: cutoutRatio, rng: rng) }
        if color { x = Self.color(x, rng: rng) }
        return x
    }

    /// out[b, c, i, j] = x[b, c, i + dy_b, j + dx_b], 0 outside; dy, dx ∈ [−⌊ratio·S + ½⌋, +⌊…⌋].
    public static func translate(_ x: Tensor, ratio: Double, rng: RandomGenerator) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let sy = Int(Double(h) * ratio + 0.5), sx = Int(Double(w) * ratio + 0.5)
        let shifts = (0..<b).map { _ in (rng.nextInt(in: -sy..<(sy + 1)), rng.nextInt(in: -sx..<(sx + 1))) }
        return translate(x, shifts: shifts)
    }

    /// Translation by explicit per-sample (dy, dx) shifts: a gather from the flattened batch plus one zero.
    public static func translate(_ x: Tensor, shifts: [(Int, Int)]) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let total = b * c * h * w
        var index = [Int](repeating: total, count: total)                 // `total` points at the zero entry
        for n in 0..<b {
            let (dy, dx) = shifts[n]
            for ch in 0..<c {
                let base = (n * c + ch) * h * w
                for i in 0..<h {
                    let si = i + dy
                    guard si >= 0 && si < h else { continue }
                    for j in 0..<w {
                        let sj = j + dx
                        if sj >= 0 && sj < w { index[base + i * w + j] = base + si * w + sj }
                    }
                }
            }
        }
        let flat = Tensor.concat([x.reshaped([total]), Tensor.zeros([1], dtype: x.dtype)], axis: 0)   // [BCHW + 1]
        return flat.indexSelect(axis: 0, index).reshaped(x.shape)
    }

    /// With probability `probability` (one coin for the batch), zeroes a square of side ⌊ratio·S + ½⌋
    /// centred at a random point per sample (clipped at the borders).
    public static func cutout(_ x: Tensor, probability: Double, ratio: Double, rng: RandomGenerator) -> Tensor {
        guard rng.nextUniform() < probability else { return x }
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let ch = Int(Double(h) * ratio + 0.5), cw = Int(Double(w) * ratio + 0.5)
        let centres = (0..<b).map { _ in (rng.nextInt(in: 0..<(h + (1 - ch % 2))), rng.nextInt(in: 0..<(w + (1 - cw % 2)))) }
        return cutout(x, centres: centres, size: (ch, cw))
    }

    /// Zeroes rows oy − ⌊h/2⌋ ..< oy − ⌊h/2⌋ + h (clipped) and likewise columns, per sample.
    public static func cutout(_ x: Tensor, centres: [(Int, Int)], size: (Int, Int)) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        var mask = [Double](repeating: 1, count: b * h * w)
        for n in 0..<b {
            let (oy, ox) = centres[n]
            for i in (oy - size.0 / 2)..<(oy - size.0 / 2 + size.0) where i >= 0 && i < h {
                for j in (ox - size.1 / 2)..<(ox - size.1 / 2 + size.1) where j >= 0 && j < w {
                    mask[(n * h + i) * w + j] = 0
                }
            }
        }
        return x * Tensor(shape: [b, 1, h, w], values: mask, dtype: x.dtype)
    }

    /// Brightness x + U(−½, ½); saturation (x − mean_c)·U(0, 2) + mean_c; contrast (x − mean_chw)·U(½, 1½) + mean_chw.
    public static func color(_ x: Tensor, rng: RandomGenerator) -> Tensor {
        let b = x.shape[0], dt = x.dtype
        var x = x + Tensor.uniform([b, 1, 1, 1], low: -0.5, high: 0.5, dtype: dt, rng: rng)
        let mc = x.mean(axes: [1], keepDims: true)
        x = (x - mc) * Tensor.uniform([b, 1, 1, 1], low: 0, high: 2, dtype: dt, rng: rng) + mc
        let mall = x.mean(axes: [1, 2, 3], keepDims: true)
        x = (x - mall) * Tensor.uniform([b, 1, 1, 1], low: 0.5, high: 1.5, dtype: dt, rng: rng) + mall
        return x
    }
}
