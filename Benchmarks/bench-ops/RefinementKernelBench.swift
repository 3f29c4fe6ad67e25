// bench-ops --refinement: `RefinementLossKernel.evaluate` (stroke refinement's fused loss + gradient, half of
// `paint`'s time) on a batch shaped like paint's: 256 windows of 32², 8 strokes each with random centres in the
// window, sides 0.05–0.5, any angle, colours 0–1.1 (some clip at 1), both oil-paint brushes. The median of the
// timed calls is reported with a checksum of the result, so two builds can be timed alternately and compared.
import Atelier
import CKernels
import Foundation
import PaintTransformer

struct RefinementKernelBench {
    let reps: Int
    let json: Bool
    let windows = 256, strokesPerWindow = 8, resolution = 32

    func run() throws {
        var rng = SplitMix64(seed: 42)
        func unit() -> Float { rng.nextUnitFloat() }
        let (w, n, r) = (windows, strokesPerWindow, resolution)
        let targets = (0..<(w * 3 * r * r)).map { _ in unit() }
        let canvases = (0..<(w * 3 * r * r)).map { _ in unit() }
        var shapes: [Float] = [], colors: [Float] = [], vertical: [Bool] = []
        for _ in 0..<(w * n) {
            let s: [Float] = [unit(), unit(), 0.05 + 0.45 * unit(), 0.05 + 0.45 * unit(), unit()]
            shapes += s
            colors += [1.1 * unit(), 1.1 * unit(), 1.1 * unit()]
            vertical.append(s[3] > s[2])
        }
        let strokes = RefinementLossKernel.Strokes(shapes: shapes, colors: colors, drawn: Array(repeating: true, count: w * n),
                                                   vertical: vertical, strokesPerWindow: n)
        let kernel = RefinementLossKernel(brushes: .oilPaint())
        let workspace = RefinementLossKernel.Workspace(strokesPerWindow: n, resolution: r)
        func call() -> RefinementLossKernel.Result {
            kernel.evaluate(targets: targets, canvases: canvases, strokes: strokes, resolution: r, workspace: workspace)
        }
        let result = call()
        guard result.loss.isFinite, result.shapeGradients.allSatisfy(\.isFinite), result.colorGradients.allSatisfy(\.isFinite)
        else { throw RefinementBenchError.notFinite }
        // Checksums: agree between builds up to float rounding.
        let gradientNorm = (result.shapeGradients + result.colorGradients).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let removalSum = result.removalChanges.reduce(0.0) { $0 + Double($1) }
        _ = call()
        var times: [Double] = []
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = call()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let median = times.sorted()[times.count / 2]
        if json {
            let obj: [String: Any] = ["benchmark": "refinement-kernel", "windows": w, "strokes_per_window": n, "resolution": r,
                                      "threads": Threading.count, "simd_level": Int(ck_simd_level()),
                                      "reps": reps, "median_ms": median, "us_per_window": median * 1000 / Double(w),
                                      "loss": result.loss, "gradient_norm": gradientNorm, "removal_sum": removalSum]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("bench-ops --refinement: \(w) windows of \(r)², \(n) strokes, \(Threading.count) threads, SIMD level \(ck_simd_level()), \(reps) reps (median)")
            print(String(format: "checksums: loss %.6f  |gradient| %.6f  Σ removal %.6f", result.loss, gradientNorm, removalSum))
            print(String(format: "evaluate  %8.3f ms  (%6.2f µs per window)", median, median * 1000 / Double(w)))
        }
    }
}

enum RefinementBenchError: Error { case notFinite }
