// Matmul in bf16 precision: the forward and every gradient of float32 products against the same graph in float64
// (where the precision is ignored), entry by entry within BF16GEMM.errorBound. The bound's Σ|a||b| of each entry
// is the same computation on the absolute values: the forward on |inputs|, and, the product being bilinear, the
// gradient of ⟨forward(|inputs|), |r|⟩ for the gradients (the cotangent r is rounded too, as in the backward GEMMs).
// The products run on the automatic BF16GEMM path (BF16GEMMTests forces each path).
import Testing
@testable import Atelier
import TestSupport

@Suite struct MatmulBF16Tests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let shapes: [[Int]]
        let f: @Sendable ([Tensor], MatmulPrecision) -> Tensor
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "AB", shapes: [[37, 71], [71, 53]]) { $0[0].matmul($0[1], precision: $1) },
        Case(name: "AᵀB", shapes: [[71, 37], [71, 53]]) { $0[0].matmul($0[1], transA: true, precision: $1) },
        Case(name: "ABᵀ", shapes: [[37, 71], [53, 71]]) { $0[0].matmul($0[1], transB: true, precision: $1) },
        Case(name: "AᵀBᵀ", shapes: [[71, 37], [53, 71]]) { $0[0].matmul($0[1], transA: true, transB: true, precision: $1) },
        // The batch folds into the rows; the bias rides in the GEMM (β = 1).
        Case(name: "linear with bias", shapes: [[2, 19, 71], [53, 71], [53]]) { $0[0].linear(weight: $0[1], bias: $0[2], precision: $1) },
        // Batched products, one single-threaded GEMM per slice, with α.
        Case(name: "batched ABᵀ α", shapes: [[3, 37, 71], [3, 53, 71]]) { $0[0].matmul($0[1], transB: true, alpha: -0.37, precision: $1) },
        // Batched × shared: the weight gradient sums over the batch (folded into K).
        Case(name: "batchedᵀ × shared", shapes: [[2, 71, 37], [71, 53]]) { $0[0].matmul($0[1], transA: true, precision: $1) },
        // im2col (exact copies) and one GEMM; col2im's sums in the input gradient are fp32 additions within γ_k.
        Case(name: "conv2d", shapes: [[2, 3, 9, 7], [5, 3, 3, 3], [5]]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, precision: $1) },
    ]

    /// Generous contraction length for the fp32 accumulation term (every product and batch sum here is shorter).
    static let k = 1_000

    @Test(arguments: cases)
    func forwardAndGradientsMatchFloat64(_ c: Case) {
        var rng = TestRNG(5)
        let values = c.shapes.map { rng.values($0.reduce(1, *)) }
        let make = { (dtype: DType, absolute: Bool) in
            zip(c.shapes, values).map { Tensor(shape: $0, values: absolute ? $1.map(Swift.abs) : $1, dtype: dtype) }
        }
        let (x32, x64, abs64) = (make(.float32, false), make(.float64, false), make(.float64, true))
        let (y32, y64, yAbs) = (c.f(x32, .bf16), c.f(x64, .bf16), c.f(abs64, .fp32))
        let r = rng.values(y32.count)
        let r32 = Tensor(shape: y32.shape, values: r), r64 = Tensor(shape: y32.shape, values: r, dtype: .float64)
        let rAbs = Tensor(shape: y32.shape, values: r.map(Swift.abs), dtype: .float64)
        let g32 = gradients(of: (y32 * r32).sum(), wrt: x32), g64 = gradients(of: (y64 * r64).sum(), wrt: x64)
        let gAbs = gradients(of: (yAbs * rAbs).sum(), wrt: abs64)
        let yFP32 = c.f(x32, .fp32)
        evaluate([y32, y64, yAbs, yFP32] + g32 + g64 + gAbs)

        for (label, got, want, absolute) in [("forward", y32, y64, yAbs)] + (0..<x32.count).map { ("gradient \($0)", g32[$0], g64[$0], gAbs[$0]) } {
            let worst = zip(zip(got.doubles(), want.doubles()), absolute.doubles()).map { pair, s in
                Swift.abs(pair.0 - pair.1) / BF16GEMM.errorBound(k: Self.k, absoluteProducts: s)
            }.max() ?? 0
            #expect(worst <= 1, "\(c.name) \(label): error / bf16 bound \(worst)")
        }
        // bf16 is really used: fp32 is far closer to float64 than bf16's rounding allows.
        #expect(maxAbsDifference(y32.doubles(), yFP32.doubles()) > 1e-4, "\(c.name): bf16 product equals the fp32 one")
    }

    @Test func gradientProductsInheritThePrecision() {
        let a = Tensor(shape: [3, 4], values: (0..<12).map(Double.init)), b = Tensor(shape: [5, 4], values: (0..<20).map(Double.init))
        let y = a.matmul(b, transB: true, precision: .bf16)
        let g = gradients(of: y.sum(), wrt: [a, b])
        for t in [y] + g {
            #expect((t.node.op as? MatmulOp)?.precision == .bf16, "\(t.node.op?.name ?? "leaf")")
        }
    }
}
