// Elementwise unary ops. Gradient rules are written with engine ops, reusing the output where that is
// cheaper (exp, sigmoid, tanh, sqrt, rsqrt), so second derivatives come for free.
import CKernels

public enum UnaryKind: String, Sendable {
    case neg, exp, log, sqrt, rsqrt, abs, sin, cos, tanh, sigmoid, relu, gelu, square, erf, sign, step, floor
    /// GELU′(x) = Φ(x) + x·φ(x) and GELU″(x) = φ(x)·(2 − x²): short gradient chains for WGAN-GP's double backward.
    case geluPrime, geluSecond
}

struct UnaryOp: Op {
    let kind: UnaryKind
    var name: String { kind.rawValue }
    var inPlaceCandidates: [Int] { [0] }

    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        if (kind == .gelu || kind == .relu) && c.dtype == .float32 {
            // C kernels: Swift compiled ReLU's select to a branch that mispredicts on signed data (≈ 5 ns/element).
            let x = c.inputs[0].pointer(as: Float.self), y = c.outputs[0].pointer(as: Float.self)
            let kernel = kind == .gelu ? ck_gelu_forward_f32 : ck_relu_forward_f32
            parallelFor(n, grain: 16384) { r in kernel(y + r.lowerBound, x + r.lowerBound, Int64(r.count)) }
            return
        }
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), n) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), n) })
    }

    // The switch runs inside each slice, so every case's closure is a literal at its loop and is inlined and
    // vectorised. (Switching outside and handing a closure value to the parallel body left the worker
    // threads calling it per element through a thunk: 4× slower with two threads than with one.)
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        parallelFor(n, grain: 32768) { r in runSlice(x + r.lowerBound, y + r.lowerBound, r.count) }
    }

    private func runSlice<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        switch kind {
        case .neg: map(x, y, n) { -$0 }
        case .exp: map(x, y, n) { T.exp($0) }
        case .log: map(x, y, n) { T.log($0) }
        case .sqrt: map(x, y, n) { T.sqrt($0) }
        case .rsqrt: map(x, y, n) { 1 / T.sqrt($0) }
        case .abs: map(x, y, n) { Swift.abs($0) }
        case .sin: map(x, y, n) { T.sin($0) }
        case .cos: map(x, y, n) { T.cos($0) }
        case .tanh: map(x, y, n) { T.tanh($0) }
        case .sigmoid: map(x, y, n) { v in v >= 0 ? 1 / (1 + T.exp(-v)) : T.exp(v) / (1 + T.exp(v)) }
        case .relu: map(x, y, n) { $0 > 0 ? $0 : 0 }
        case .gelu: map(x, y, n) { v in v * (1 + T.erf(v * T(0.70710678118654752440))) * T(0.5) }
        case .square: map(x, y, n) { $0 * $0 }
        case .erf: map(x, y, n) { T.erf($0) }
        case .sign: map(x, y, n) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .step: map(x, y, n) { $0 > 0 ? 1 : 0 }
        case .floor: map(x, y, n) { $0.rounded(.down) }
        case .geluPrime: map(x, y, n) { v in
            (1 + T.erf(v * T(0.70710678118654752440))) * T(0.5) + v * T.exp(v * v * T(-0.5)) * T(0.39894228040143267794)
        }
        case .geluSecond: map(x, y, n) { v in T.exp(v * v * T(-0.5)) * T(0.39894228040143267794) * (2 - v * v) }
        }
    }

    @inline(__always)
    private func map<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
        mapElements(y, x, n, f)
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let x = c.inputs[0], y = c.outputs[0], g = c.grad
        switch kind {
        case .neg: return [-g]
        case .exp: return [g * y]
        case .log: return [g / x]
        case .sqrt: return [g * 0.5 / y]                      // d√x = 1/(2√x)
        case .rsqrt: return [g * (-0.5) * y * y * y]          // d x^-½ = -½ x^-3/2
        case .abs: return [g * x.sign()]
        case .sin: return [g * x.cos()]
        case .cos: return [-(g * x.sin())]
        case .tanh: return [g * (1 - y.square())]
        case .sigmoid: return [g * y * (1 - y)]
        case .relu:
            // Reads the output (y > 0 ⇔ x > 0), so the input can be overwritten in place by the forward.
            return [Tensor.make(FusedElementwiseBackwardOp(kind: .relu), [y, g], shape: x.shape, dtype: x.dtype)]
        case .gelu:
            // g·GELU′(x), GELU′(x) = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{−x²/2}/√(2π)
            return [Tensor.make(FusedElementwiseBackwardOp(kind: .gelu), [x, g], shape: x.shape, dtype: x.dtype)]
        case .geluPrime: return [g * x.unary(.geluSecond)]
        case .geluSecond:
            // d/dx [φ(x)(2 − x²)] = x·φ(x)·(x² − 4)
            let pdf = (x.square() * -0.5).exp() * 0.39894228040143267794
            return [g * x * pdf * (x.square() - 4)]
        case .square: return [g * x * 2]
        case .erf: return [g * (x.square() * -1).exp() * 1.12837916709551257390]  // 2/√π e^{-x²}
        case .sign, .step, .floor: return [nil]
        }
    }
}

extension Tensor {
    func unary(_ kind: UnaryKind) -> Tensor { Tensor.make(UnaryOp(kind: kind), [self], shape: shape, dtype: dtype) }
    public static prefix func - (x: Tensor) -> Tensor { x.unary(.neg) }
    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func abs() -> Tensor { unary(.abs) }
    public func sin() -> Tensor { unary(.sin) }
    public func cos() -> Tensor { unary(.cos) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    public func relu() -> Tensor { unary(.relu) }
    /// Exact GELU: x·Φ(x) with the error function.
    public func gelu() -> Tensor { unary(.gelu) }
    public func square() -> Tensor { unary(.square) }
    public func erf() -> Tensor { unary(.erf) }
    /// −1, 0 or 1 per element; no gradient.
    public func sign() -> Tensor { unary(.sign) }
    /// 1 where the element is positive, else 0; no gradient.
    public func step() -> Tensor { unary(.step) }
    /// ⌊x⌋ per element; no gradient (zero almost everywhere).
    public func floor() -> Tensor { unary(.floor) }
}
