import Foundation
import Testing
@testable import PaintTransformer

// PSNR, SSIM and block averages against values computed by hand.

private func constant(_ v: Float, width: Int = 16, height: Int = 16) -> RGBImage {
    RGBImage(width: width, height: height, pixels: [Float](repeating: v, count: 3 * width * height))
}

@Test func psnrOfAKnownError() {
    // MSE 0.1² = 0.01 → 10·log10(1 / 0.01) = 20 dB.
    #expect(abs(constant(0.5).psnr(against: constant(0.6)) - 20) < 1e-4)
    #expect(constant(0.3).psnr(against: constant(0.3)) == .infinity)
}

@Test func ssimOfConstantImagesIsTheLuminanceTerm() {
    // No variance: SSIM = (2ab + C1) / (a² + b² + C1) · (C2 / C2).
    let a = 0.2, b = 0.7, c1 = 0.0001
    let expected = (2 * a * b + c1) / (a * a + b * b + c1)
    #expect(abs(constant(Float(a)).ssim(against: constant(Float(b))) - expected) < 1e-5)
    #expect(abs(constant(0.4).ssim(against: constant(0.4)) - 1) < 1e-9)
}

@Test func ssimOfAShiftedPatternMatchesADirectWindowComputation() {
    // y = x + c: the structure and contrast terms are exactly 1, so each window contributes only its luminance
    // term 1 − c² / (μx² + μy² + C1), with μ the Gaussian-weighted window mean, computed here directly in 2-D.
    let w = 14, h = 12, c: Float = 0.1
    var x = RGBImage(width: w, height: h, pixels: [Float](repeating: 0, count: 3 * w * h))
    for ch in 0..<3 { for i in 0..<(w * h) { x.pixels[ch * w * h + i] = Float((i * 7 + ch * 3) % 11) / 20 } }
    let y = RGBImage(width: w, height: h, pixels: x.pixels.map { $0 + c })
    let g = (0..<11).map { exp(-Double(($0 - 5) * ($0 - 5)) / (2 * 1.5 * 1.5)) }
    let norm = g.reduce(0, +)
    var total = 0.0
    for ch in 0..<3 {
        var sum = 0.0
        for top in 0...(h - 11) {
            for left in 0...(w - 11) {
                var mean = 0.0
                for dy in 0..<11 { for dx in 0..<11 {
                    mean += g[dy] * g[dx] / (norm * norm) * Double(x.pixels[ch * w * h + (top + dy) * w + left + dx])
                } }
                let my = mean + Double(c)
                sum += (2 * mean * my + 0.0001) / (mean * mean + my * my + 0.0001)
            }
        }
        total += sum / Double((h - 10) * (w - 10))
    }
    #expect(abs(y.ssim(against: x) - total / 3) < 1e-5)
}

@Test func blockAverageReplacesTilesByTheirMeans() {
    // 3×2 image, 2-px blocks: tiles {0,1 | 3,4} and {2 | 5} (the edge tile is one column wide).
    let red: [Float] = [0, 1, 2,
                        3, 4, 5]
    let image = RGBImage(width: 3, height: 2, pixels: red + red.map { $0 * 2 } + [Float](repeating: 1, count: 6))
    let out = image.blockAverage(2)
    #expect(Array(out.pixels[0..<6]) == [2, 2, 3.5, 2, 2, 3.5])
    #expect(Array(out.pixels[6..<12]) == [4, 4, 7, 4, 4, 7])
    #expect(Array(out.pixels[12..<18]) == [Float](repeating: 1, count: 6))
}
