import Foundation

// How close a painting is to its photo: PSNR, SSIM, and the block-average images that make a calibrated floor
// (a painting worse than the photo's 16-px block average has learnt less than a mosaic of flat squares).
//
// SSIM follows Wang et al. (2004): 11×11 Gaussian window, σ = 1.5, C1 = (0.01·L)², C2 = (0.03·L)² with L = 1, the
// local statistics over the 'valid' region only (no padding), averaged over pixels and then over R, G and B.

extension RGBImage {
    /// Peak signal-to-noise ratio in dB against `reference` (same size), values clamped to [0, 1].
    public func psnr(against reference: RGBImage) -> Double {
        precondition(width == reference.width && height == reference.height, "[psnr] sizes differ")
        var sum = 0.0
        for (a, b) in zip(pixels, reference.pixels) {
            let d = Double(min(max(a, 0), 1)) - Double(min(max(b, 0), 1))
            sum += d * d
        }
        let mse = sum / Double(max(pixels.count, 1))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }

    /// Mean structural similarity against `reference` (same size, each side ≥ 11), values clamped to [0, 1].
    public func ssim(against reference: RGBImage) -> Double {
        precondition(width == reference.width && height == reference.height, "[ssim] sizes differ")
        let window = 11
        precondition(width >= window && height >= window, "[ssim] \(width)×\(height) is smaller than the \(window)-px window")
        let kernel = Self.gaussianKernel(size: window, sigma: 1.5)
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let plane = width * height
        var total = 0.0
        for c in 0..<3 {
            let x = pixels[(c * plane)..<((c + 1) * plane)].map { Double(min(max($0, 0), 1)) }
            let y = reference.pixels[(c * plane)..<((c + 1) * plane)].map { Double(min(max($0, 0), 1)) }
            let blur = { (v: [Double]) in Self.validFilter(v, width: width, height: height, kernel: kernel) }
            let mx = blur(x), my = blur(y)
            let xx = blur(zip(x, x).map(*)), yy = blur(zip(y, y).map(*)), xy = blur(zip(x, y).map(*))
            var sum = 0.0
            for i in mx.indices {
                let vx = xx[i] - mx[i] * mx[i], vy = yy[i] - my[i] * my[i], cov = xy[i] - mx[i] * my[i]
                sum += (2 * mx[i] * my[i] + c1) * (2 * cov + c2) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
            total += sum / Double(mx.count)
        }
        return total / 3
    }

    /// Each `block × block` tile replaced by its mean colour (edge tiles are smaller).
    public func blockAverage(_ block: Int) -> RGBImage {
        precondition(block > 0, "[blockAverage] block \(block) must be positive")
        var out = self
        let plane = width * height
        for c in 0..<3 {
            for top in stride(from: 0, to: height, by: block) {
                for left in stride(from: 0, to: width, by: block) {
                    let rows = top..<min(top + block, height), cols = left..<min(left + block, width)
                    var sum = 0.0
                    for y in rows { for x in cols { sum += Double(pixels[c * plane + y * width + x]) } }
                    let mean = Float(sum / Double(rows.count * cols.count))
                    for y in rows { for x in cols { out.pixels[c * plane + y * width + x] = mean } }
                }
            }
        }
        return out
    }

    /// Normalised 1-D Gaussian weights.
    static func gaussianKernel(size: Int, sigma: Double) -> [Double] {
        let centre = Double(size - 1) / 2
        let raw = (0..<size).map { exp(-(Double($0) - centre) * (Double($0) - centre) / (2 * sigma * sigma)) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }

    /// Separable filtering with `kernel` along both axes, 'valid' region: [(H−k+1)·(W−k+1)].
    static func validFilter(_ v: [Double], width: Int, height: Int, kernel: [Double]) -> [Double] {
        let k = kernel.count, outW = width - k + 1, outH = height - k + 1
        var rows = [Double](repeating: 0, count: height * outW)
        for y in 0..<height {
            for x in 0..<outW {
                var s = 0.0
                for i in 0..<k { s += kernel[i] * v[y * width + x + i] }
                rows[y * outW + x] = s
            }
        }
        var out = [Double](repeating: 0, count: outH * outW)
        for y in 0..<outH {
            for x in 0..<outW {
                var s = 0.0
                for i in 0..<k { s += kernel[i] * rows[(y + i) * outW + x] }
                out[y * outW + x] = s
            }
        }
        return out
    }
}
