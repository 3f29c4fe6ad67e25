// Single-pass backward kernels for the hottest elementwise rules. The GELU and ReLU gradient rules always emit
// them; a second-order request differentiates their composite forms (g·GELU′(x), g·step(y)) instead.
import CKernels

enum FusedBackwardKind: String, Sendable {
    /// dx = g · (Φ(x) + x·φ(x))
    case gelu
    /// dx = g·scale where the relu output is positive, else 0 (inputs: y, g)
    case relu
}

/// Inputs (x, g) → dx, elementwise.
struct FusedElementwiseBackwardOp: CompositeOp {
    let kind: FusedBackwardKind
    /// ReLU only: 1, or 1/keep when y is the output of `reluDropout` (its kept elements were scaled by 1/keep).
    var scale: Double = 1
    var name: String { kind.rawValue + "Backward" }
    var inPlaceCandidates: [Int] { [1] }
    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        if c.dtype == .float32 {
            let x = c.inputs[0].pointer(as: Float.self), g = c.inputs[1].pointer(as: Float.self), y = c.outputs[0].pointer(as: Float.self)
            switch kind {
            case .gelu:
                parallelFor(n, grain: 16384) { r in ck_gelu_backward_f32(y + r.lowerBound, x + r.lowerBound, g + r.lowerBound, Int64(r.count)) }
            case .relu:
                let scale = Float(self.scale)
                parallelFor(n, grain: 16384) { r in ck_relu_backward_f32(y + r.lowerBound, x + r.lowerBound, g + r.lowerBound, scale, Int64(r.count)) }
            }
            return
        }
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.inputs[1].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), n) },
                          { run(c.inputs[0].pointer(as: Double.self), c.inputs[1].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), n) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        switch kind {
        case .gelu:
            parallelFor(n, grain: 16384) { r in
                let o = r.lowerBound
                zipElements(y + o, x + o, g + o, r.count) { v, gv in
                    let cdf = (1 + T.erf(v * T(0.70710678118654752440))) * T(0.5)
                    let pdf = T.exp(v * v * T(-0.5)) * T(0.39894228040143267794)
                    return gv * (cdf + v * pdf)
                }
            }
        case .relu:
            let scale = T(self.scale)
            parallelFor(n, grain: 32768) { r in
                let o = r.lowerBound
                zipElements(y + o, x + o, g + o, r.count) { xv, gv in xv > 0 ? gv * scale : 0 }
            }
        }
    }
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        switch kind {
        case .gelu: [inputs[1] * inputs[0].unary(.geluPrime)]
        case .relu: [inputs[1] * inputs[0].step() * scale]
        }
    }
}
