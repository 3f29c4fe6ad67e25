// Changes to batches of 32×32 grayscale images in [−1, 1] (NCHW floats): the classifier's training
// augmentation and the calibration ladder's degradations of real images.
import Foundation
import Atelier

public enum ImageDegradation {
    static let side = 32, plane = 32 * 32

    /// Each image shifted by up to ±2 pixels in each direction (background −1 fills in) and flipped
    /// left–right with probability ½: a classifier that ignores small shifts scores garments, not positions.
    static func shiftedAndFlipped(_ pixels: [Float], count: Int, rng: RandomGenerator) -> [Float] {
        var out = [Float](repeating: -1, count: pixels.count)
        for i in 0..<count {
            let dy = rng.nextInt(in: -2..<3), dx = rng.nextInt(in: -2..<3), flip = rng.nextUniform() < 0.5
            for y in 0..<side {
                let sy = y - dy
                guard sy >= 0 && sy < side else { continue }
                for x in 0..<side {
                    var sx = x - dx
                    guard sx >= 0 && sx < side else { continue }
                    if flip { sx = side - 1 - sx }
                    out[i * plane + y * side + x] = pixels[i * plane + sy * side + sx]
                }
            }
        }
        return out
    }

    /// Separable Gaussian blur of standard deviation `sigma` pixels (kernel radius ⌈3σ⌉, edges clamped).
    public static func blurred(_ pixels: [Float], count: Int, sigma: Double) -> [Float] {
        let radius = Int((3 * sigma).rounded(.up))
        var weights = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        var rows = [Float](repeating: 0, count: pixels.count), out = rows
        func clamp(_ v: Int) -> Int { min(max(v, 0), side - 1) }
        for i in 0..<count {
            let base = i * plane
            for y in 0..<side {
                for x in 0..<side {
                    var s = 0.0
                    for k in -radius...radius { s += weights[k + radius] * Double(pixels[base + y * side + clamp(x + k)]) }
                    rows[base + y * side + x] = Float(s)
                }
            }
            for y in 0..<side {
                for x in 0..<side {
                    var s = 0.0
                    for k in -radius...radius { s += weights[k + radius] * Double(rows[base + clamp(y + k) * side + x]) }
                    out[base + y * side + x] = Float(s)
                }
            }
        }
        return out
    }

    /// Gaussian noise of standard deviation `sigma` (in the [−1, 1] range's units), clamped back into it.
    public static func noisy(_ pixels: [Float], sigma: Double, seed: UInt64) -> [Float] {
        let rng = RandomGenerator(seed: seed)
        return pixels.map { Float(min(1, max(-1, Double($0) + sigma * rng.nextNormal()))) }
    }
}
