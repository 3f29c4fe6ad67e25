import Foundation

// Brush textures: single-channel dabs in [0, 1] on black, warped by the renderers into every stroke.
//
// The reference ships two 394×394 PNG oil-paint dabs (vertical and horizontal bristle grain, same silhouette:
// a rounded dab filling ≈0.75 of the box width and ≈0.90 of its height, 56.6 % of the square, intensity
// ≈0.84–0.95 inside). The project draws its own: a superellipse silhouette with a slightly wavy rim, and
// anisotropic value noise that forms streaks along the grain. Zero must mean "outside": the inference renderer's
// alpha is `warped > 0`, so the inside never drops to 0.

/// Why a user-supplied brush image was rejected.
public enum BrushError: Error, Equatable, CustomStringConvertible {
    case empty(width: Int, height: Int)
    case sizeMismatch(width: Int, height: Int, count: Int)
    case nonFinite(index: Int)
    case outOfRange(index: Int, value: Float)

    public var description: String {
        switch self {
        case let .empty(w, h): "[Brush] image is empty (\(w)×\(h)); give at least 1×1 pixel"
        case let .sizeMismatch(w, h, n): "[Brush] \(w)×\(h) needs \(w * h) pixels, got \(n)"
        case let .nonFinite(i): "[Brush] pixel \(i) is not finite"
        case let .outOfRange(i, v): "[Brush] pixel \(i) = \(v) lies outside [0, 1]; scale grey levels by 1/255"
        }
    }
}

/// Direction of the bristle streaks in a procedural brush.
public enum BrushGrain: Sendable, Equatable {
    case vertical, horizontal
}

/// A grayscale brush texture: 0 is "no paint", larger values are paint intensity (multiplied by the stroke
/// colour). The renderers stretch the whole `width × height` box onto a stroke's w × h.
public struct Brush: Sendable, Equatable {
    /// Texture size in pixels.
    public let width: Int
    public let height: Int
    /// Intensities in [0, 1], shape [height, width], row-major.
    public let pixels: [Float]

    /// Wraps a user's grayscale image.
    /// - Throws: `BrushError` if the image is empty, the count is not `width·height`, or a value is not a
    ///   finite number in [0, 1].
    public init(width: Int, height: Int, pixels: [Float]) throws(BrushError) {
        guard width > 0, height > 0 else { throw .empty(width: width, height: height) }
        guard pixels.count == width * height else {
            throw .sizeMismatch(width: width, height: height, count: pixels.count)
        }
        for (i, value) in pixels.enumerated() {
            guard value.isFinite else { throw .nonFinite(index: i) }
            guard value >= 0, value <= 1 else { throw .outOfRange(index: i, value: value) }
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(validated pixels: [Float], width: Int, height: Int) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A procedural oil-paint dab, deterministic for a given `seed`.
    ///
    /// The default 256×256 is enough: inference renders nearest-resample the texture to the stroke window
    /// (64 px at the finest layer, larger ones only at the 1–4 coarsest layers) and training renders at 32–64 px,
    /// so finer bristle detail than 256 px would only alias; it is also a power of two and 0.6 of the
    /// reference's 394² memory. Silhouette and streak widths scale with `size`.
    /// - Parameters:
    ///   - grain: streak direction; the silhouette does not depend on it.
    ///   - size: side length in pixels (≥ 8).
    ///   - seed: selects the rim wobble and the streak pattern.
    public static func oilPaint(grain: BrushGrain, size: Int = 256, seed: UInt64 = 0x0B15_7A1E) -> Brush {
        precondition(size >= 8, "[Brush.oilPaint] size \(size) is too small; use at least 8")
        var pixels = [Float](repeating: 0, count: size * size)  // [size, size]
        let n = Double(size)
        let rimSeed = seed ^ 0x5111_0E77
        let streakSeed = seed ^ (grain == .vertical ? 0x0000_0000_57EA_4B01 : 0x0000_0000_57EA_4B02)
        // Semi-axes of the dab in box units: full extents 0.75 × 0.90 once the rim wobble (which only moves
        // inwards, and rarely by less than 1 %) is applied. Exponent 2.5 gives the measured 84 % fill of the
        // bounding box, between an ellipse (79 %) and a rectangle.
        let a = 0.3825, b = 0.4545, exponent = 2.5
        let rimDepth = 0.04  // the rim moves inwards by up to 4 % of the radius
        let edgeWidth = 2.0 / (n * a)  // ≈2 px of soft falloff, in normalised radius
        for row in 0..<size {
            let dy = (Double(row) + 0.5) / n - 0.5
            for col in 0..<size {
                let dx = (Double(col) + 0.5) / n - 0.5
                let radius = pow(pow(abs(dx / a), exponent) + pow(abs(dy / b), exponent), 1 / exponent)
                let angle = atan2(dy / b, dx / a)  // in [−π, π]
                let rim = 1 - rimDepth * (1 - periodicNoise(angle / (2 * .pi) + 0.5, cells: 11, seed: rimSeed))
                let inside = (rim - radius) / edgeWidth
                if inside <= 0 { continue }
                let edge = smoothstep(min(inside, 1))
                // Streaks: high frequency across the grain, low frequency along it.
                let (across, along) = grain == .vertical ? (dx, dy) : (dy, dx)
                var streak = 0.0
                streak += 0.55 * valueNoise(across * 40, along * 2.5, seed: streakSeed)
                streak += 0.30 * valueNoise(across * 95, along * 4, seed: streakSeed &+ 1)
                streak += 0.15 * valueNoise(across * 190, along * 6, seed: streakSeed &+ 2)
                let intensity = min(max(0.905 + 0.22 * (streak - 0.5), 0.78), 0.98)
                // An inside pixel never reaches 0, so `warped > 0` keeps its meaning.
                pixels[row * size + col] = Float(max(intensity * edge, 1e-3))
            }
        }
        return Brush(validated: pixels, width: size, height: size)
    }
}

/// The two brushes a renderer chooses between.
public struct BrushSet: Sendable, Equatable {
    /// Used for strokes taller than wide (`h > w`).
    public var vertical: Brush
    /// Used for all other strokes (`h ≤ w`).
    public var horizontal: Brush

    /// Pairs two brushes; they may differ in size.
    public init(vertical: Brush, horizontal: Brush) {
        self.vertical = vertical
        self.horizontal = horizontal
    }

    /// The project's procedural oil-paint pair: identical silhouettes, vertical and horizontal grain.
    public static func oilPaint(size: Int = 256, seed: UInt64 = 0x0B15_7A1E) -> BrushSet {
        BrushSet(
            vertical: .oilPaint(grain: .vertical, size: size, seed: seed),
            horizontal: .oilPaint(grain: .horizontal, size: size, seed: seed))
    }

    /// The brightest stroke colour worth painting with: colour × intensity is what lands on the canvas (clipped to
    /// 1 there), and a textured brush's body sits below 1 (≈ 0.9 for the oil-paint pair), so colours capped at 1
    /// could never paint white or any bright highlight — a dark bias of ≈ 0.06 on every near-white pixel. Fitted and
    /// refined colours may rise to 1 ÷ the body's mean intensity (the pixels at ≥ half the brightest), the lower
    /// of the two brushes, so a stroke's mean can reach 1; kept within [1, 2] for extreme user brushes.
    public var colorCeiling: Float {
        func bodyMean(_ brush: Brush) -> Float {
            let peak = brush.pixels.max() ?? 0
            var sum: Float = 0, count = 0
            for v in brush.pixels where v >= 0.5 * peak && v > 0 { sum += v; count += 1 }
            return count > 0 ? sum / Float(count) : 1
        }
        let body = min(bodyMean(vertical), bodyMean(horizontal))
        return min(max(1 / body, 1), 2)
    }

    /// The reference's rule: the vertical brush if `h > w`, else the horizontal one.
    @inlinable
    public func brush(w: Float, h: Float) -> Brush { h > w ? vertical : horizontal }
}

// MARK: - Noise helpers (deterministic, platform-independent)

/// A hash of a lattice point to [0, 1): SplitMix64's finaliser over the combined key.
private func latticeValue(_ x: Int, _ y: Int, seed: UInt64) -> Double {
    var z = seed &+ UInt64(bitPattern: Int64(x)) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(y)) &* 0xC2B2_AE3D_27D4_EB4F
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) * 0x1p-53
}

private func smoothstep(_ t: Double) -> Double { t * t * (3 - 2 * t) }

/// 2-D value noise in [0, 1): smooth interpolation of lattice values.
private func valueNoise(_ x: Double, _ y: Double, seed: UInt64) -> Double {
    let x0 = x.rounded(.down), y0 = y.rounded(.down)
    let ix = Int(x0), iy = Int(y0)
    let tx = smoothstep(x - x0), ty = smoothstep(y - y0)
    let top = latticeValue(ix, iy, seed: seed) * (1 - tx) + latticeValue(ix + 1, iy, seed: seed) * tx
    let bottom = latticeValue(ix, iy + 1, seed: seed) * (1 - tx) + latticeValue(ix + 1, iy + 1, seed: seed) * tx
    return top * (1 - ty) + bottom * ty
}

/// 1-D value noise on a circle: `t` in [0, 1] with `cells` lattice points, wrapping at 1.
private func periodicNoise(_ t: Double, cells: Int, seed: UInt64) -> Double {
    let x = t * Double(cells)
    let x0 = x.rounded(.down)
    let i = Int(x0)
    let s = smoothstep(x - x0)
    let a = latticeValue(((i % cells) + cells) % cells, 0, seed: seed)
    let b = latticeValue((((i + 1) % cells) + cells) % cells, 0, seed: seed)
    return a * (1 - s) + b * s
}
