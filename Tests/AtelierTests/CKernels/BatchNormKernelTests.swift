// The fused batch-norm ops (training forward and backward, inference) against the composite engine-op form they
// replaced (BatchNormTests.swift), for every SIMD path and both element types, on odd sizes: H·W = 63 and 2,115
// are no multiple of any vector width, and 2,115 spans two of the statistics kernel's 2,048-element chunks.
// The composite runs in Float64 on the same values (for Float32, the inputs rounded to float), so the comparison
// measures the fused kernels' own error. Tolerances, on |fused − composite|/max(1, |composite|) (absolute for
// values of order 1, relative for the weight and bias gradients): Float64 1e-12; Float32 1e-6, and 5e-6 for the
// weight and bias gradients, sums of up to 4,230 products of float-rounded g and x̂ that largely cancel. Inference
// must also equal the composite in the same element type bit for bit, so trained models paint as before.
import Testing
@testable import Atelier
import TestSupport

extension CKernelsTests {
    @Suite struct BatchNorm {
        static let shapes: [[Int]] = [[3, 5, 7, 9], [2, 3, 45, 47], [4, 3, 8, 8], [1, 2, 1, 1], [5, 4, 1, 3]]
        static let dtypes: [DType] = [.float32, .float64]

        private static func tolerance(_ dtype: DType, parameterGradient: Bool = false) -> Double {
            dtype == .float64 ? 1e-12 : parameterGradient ? 5e-6 : 1e-6
        }

        /// Inputs of `dtype` and the same values in Float64 for the composite: x in [−2, 3) (a nonzero mean), weight
        /// and bias per channel, and a cotangent for y.
        private static func inputs(_ shape: [Int], _ dtype: DType) -> (fused: [Tensor], composite: [Tensor]) {
            var rng = TestRNG(UInt64(shape.reduce(0, +)))
            let count = shape.reduce(1, *), c = shape[1]
            let values = [rng.values(count, low: -2, high: 3), rng.values(c, low: 0.5, high: 1.5), rng.values(c), rng.values(count)]
                .map { dtype == .float32 ? $0.map { Double(Float($0)) } : $0 }
            let shapes = [shape, [c], [c], shape]
            return (zip(shapes, values).map { Tensor(shape: $0, values: $1, dtype: dtype) },
                    zip(shapes, values).map { Tensor(shape: $0, values: $1, dtype: .float64) })
        }

        /// |fused − composite| ≤ tolerance·max(1, |composite|) elementwise: absolute for values of order 1, relative
        /// for the weight and bias gradients (sums over N·H·W elements).
        private static func expectClose(_ fused: Tensor, _ composite: Tensor, _ tolerance: Double, _ what: String) {
            #expect(fused.shape == composite.shape, "\(what): shapes \(fused.shape) vs \(composite.shape)")
            let worst = zip(fused.doubles(), composite.doubles()).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
            #expect(worst <= tolerance, "\(what): fused and composite differ by \(worst)")
        }

        @Test(arguments: CKernelsTests.levels, dtypes)
        func trainingForwardAndBackwardMatchTheComposite(level: Int32, dtype: DType) {
            withSIMDLevel(level) {
                for shape in Self.shapes {
                    for affine in [true, false] {
                        let (f, e) = Self.inputs(shape, dtype)
                        let fused = f[0].batchNormTraining(weight: affine ? f[1] : nil, bias: affine ? f[2] : nil)
                        let composite = referenceBatchNormTraining(e[0], weight: affine ? e[1] : nil, bias: affine ? e[2] : nil)
                        #expect(fused.0.node.op?.name == "batchNorm")
                        let wrt = affine ? [0, 1, 2] : [0]
                        let fusedGrads = gradients(of: (fused.0 * f[3]).sum(), wrt: wrt.map { f[$0] })
                        let compositeGrads = gradients(of: (composite.y * e[3]).sum(), wrt: wrt.map { e[$0] })
                        #expect(fusedGrads[0].node.op?.name == "batchNormBackward")
                        evaluate([fused.0, fused.mean, fused.variance, composite.y, composite.mean, composite.variance] + fusedGrads + compositeGrads)
                        let label = "level \(level) \(dtype) \(shape)\(affine ? "" : " no affine")", tolerance = Self.tolerance(dtype)
                        Self.expectClose(fused.0, composite.y, tolerance, "\(label) y")
                        Self.expectClose(fused.mean, composite.mean, tolerance, "\(label) mean")
                        Self.expectClose(fused.variance, composite.variance, tolerance, "\(label) variance")
                        for (k, (a, b)) in zip(fusedGrads, compositeGrads).enumerated() {
                            Self.expectClose(a, b, Self.tolerance(dtype, parameterGradient: k > 0), "\(label) gradient \(["x", "weight", "bias"][k])")
                        }
                    }
                }
            }
        }

        @Test(arguments: CKernelsTests.levels, dtypes)
        func inferenceMatchesTheComposite(level: Int32, dtype: DType) {
            withSIMDLevel(level) {
                for shape in Self.shapes {
                    let (f, e) = Self.inputs(shape, dtype)
                    var rng = TestRNG(9)
                    let c = shape[1]
                    let statistics = [rng.values(c), rng.values(c, low: 0.2, high: 3)].map { dtype == .float32 ? $0.map { Double(Float($0)) } : $0 }
                    let (mean, variance) = (Tensor(shape: [c], values: statistics[0], dtype: dtype), Tensor(shape: [c], values: statistics[1], dtype: dtype))
                    let (mean64, variance64) = (Tensor(shape: [c], values: statistics[0], dtype: .float64), Tensor(shape: [c], values: statistics[1], dtype: .float64))
                    let fused = f[0].batchNormInference(mean: mean, variance: variance, weight: f[1], bias: f[2])
                    #expect(fused.node.op?.name == "batchNormInference")
                    let composite = referenceBatchNormInference(e[0], mean: mean64, variance: variance64, weight: e[1], bias: e[2])
                    let bare = f[0].batchNormInference(mean: mean, variance: variance, weight: nil, bias: nil)
                    let bareComposite = referenceBatchNormInference(e[0], mean: mean64, variance: variance64, weight: nil, bias: nil)
                    // In its own element type the composite rounds exactly as the kernel does (no fused multiply-add).
                    let sameType = referenceBatchNormInference(f[0], mean: mean, variance: variance, weight: f[1], bias: f[2])
                    evaluate([fused, composite, bare, bareComposite, sameType])
                    Self.expectClose(fused, composite, Self.tolerance(dtype), "level \(level) \(dtype) \(shape) inference")
                    Self.expectClose(bare, bareComposite, Self.tolerance(dtype), "level \(level) \(dtype) \(shape) inference, no affine")
                    #expect(fused.doubles() == sameType.doubles(), "level \(level) \(dtype) \(shape): inference differs from the composite's bits")
                }
            }
        }

        /// Float32 data far from zero (mean 1000, σ ≈ 0.3) over 131,072 elements a channel: the statistics are those
        /// of the same floats computed on the host in two passes, to double rounding.
        @Test(arguments: CKernelsTests.levels)
        func statisticsStayAccurateForLargeChannels(level: Int32) {
            let shape = [32, 2, 64, 64], perChannel = 32 * 64 * 64
            var rng = TestRNG(11)
            let floats = rng.values(2 * perChannel).map { Float(1000 + $0 / 2) }
            let x = Tensor(shape: shape, values: floats.map(Double.init), dtype: .float32)
            let (_, mean, variance) = withSIMDLevel(level) {
                let out = x.batchNormTraining(weight: nil, bias: nil)
                evaluate([out.mean, out.variance])
                return out
            }
            for c in 0..<2 {
                let values = (0..<32).flatMap { n in (0..<4096).map { Double(floats[(n * 2 + c) * 4096 + $0]) } }
                let m = values.reduce(0, +) / Double(perChannel)
                let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(perChannel - 1)
                #expect(Swift.abs(mean.doubles()[c] - m) <= 1e-4, "level \(level) channel \(c) mean \(mean.doubles()[c]) vs \(m)")
                #expect(Swift.abs(variance.doubles()[c] - v) <= 1e-6 * v, "level \(level) channel \(c) variance \(variance.doubles()[c]) vs \(v)")
            }
        }
    }
}
