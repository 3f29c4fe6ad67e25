// Central-difference gradient checks in Float64 with a random cotangent; second order checks the
// gradient of ⟨∇L, c₂⟩ against finite differences of that gradient.
import Testing
@testable import Atelier
import TestSupport

/// One op case: input shapes, how to draw inputs, the function, and its tolerances.
struct GradCase: CustomTestStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    var low: Double = -1
    var high: Double = 1
    var eps: Double = 1e-6
    var atol: Double = 1e-6
    var rtol: Double = 1e-5
    let f: @Sendable ([Tensor]) -> Tensor
    var testDescription: String { name }
}

func isClose(_ a: Double, _ b: Double, atol: Double, rtol: Double) -> Bool {
    Swift.abs(a - b) <= atol + rtol * Swift.max(Swift.abs(a), Swift.abs(b))
}

/// Returns the worst mismatch description, or nil if analytic and numeric gradients agree.
func checkFirstOrder(_ c: GradCase, seed: UInt64 = 1) -> String? {
    var rng = TestRNG(seed)
    let values = c.shapes.map { rng.values($0.reduce(1, *), low: c.low, high: c.high) }
    let outShape = c.f(zip(c.shapes, values).map { Tensor(shape: $0, values: $1, dtype: .float64) }).shape
    let cot = Tensor(shape: outShape, values: rng.values(outShape.reduce(1, *)), dtype: .float64)
    func loss(_ vals: [[Double]]) -> Double {
        (c.f(zip(c.shapes, vals).map { Tensor(shape: $0, values: $1, dtype: .float64) }) * cot).sum().item()
    }
    let xs = zip(c.shapes, values).map { Tensor(shape: $0, values: $1, dtype: .float64) }
    let l = (c.f(xs) * cot).sum()
    let grads = gradients(of: l, wrt: xs)
    evaluate(grads)
    return compareWithCentralDifferences(c, values: values, analytic: grads.map { $0.doubles() }, f: loss, tolerance: 1, label: c.name)
}

/// Compares `analytic[k][i]` with the central difference of `f` in element i of input k.
func compareWithCentralDifferences(_ c: GradCase, values: [[Double]], analytic: [[Double]], f: ([[Double]]) -> Double,
                                   tolerance scale: Double, label: String) -> String? {
    for (k, a) in analytic.enumerated() {
        for i in 0..<values[k].count {
            var plus = values, minus = values
            plus[k][i] += c.eps; minus[k][i] -= c.eps
            let numeric = (f(plus) - f(minus)) / (2 * c.eps)
            if !isClose(a[i], numeric, atol: c.atol * scale, rtol: c.rtol * scale) {
                return "\(label): input \(k) element \(i): analytic \(a[i]) vs numeric \(numeric)"
            }
        }
    }
    return nil
}

/// Checks ∇ₓ⟨∇ₓL, c₂⟩ against central differences of ⟨∇ₓL, c₂⟩.
func checkSecondOrder(_ c: GradCase, seed: UInt64 = 2) -> String? {
    var rng = TestRNG(seed)
    let values = c.shapes.map { rng.values($0.reduce(1, *), low: c.low, high: c.high) }
    let outShape = c.f(zip(c.shapes, values).map { Tensor(shape: $0, values: $1, dtype: .float64) }).shape
    let cot = rng.values(outShape.reduce(1, *))
    let cot2 = values.map { rng.values($0.count) }
    func h(_ xs: [Tensor]) -> Tensor {
        let l = (c.f(xs) * Tensor(shape: outShape, values: cot, dtype: .float64)).sum()
        let g = gradients(of: l, wrt: xs)
        return zip(g, cot2).enumerated().map { ($0.element.0 * Tensor(shape: c.shapes[$0.offset], values: $0.element.1, dtype: .float64)).sum() }
            .reduce(Tensor(scalar: 0, dtype: .float64), +)
    }
    func hValue(_ vals: [[Double]]) -> Double {
        h(zip(c.shapes, vals).map { Tensor(shape: $0, values: $1, dtype: .float64) }).item()
    }
    let xs = zip(c.shapes, values).map { Tensor(shape: $0, values: $1, dtype: .float64) }
    let grads = gradients(of: h(xs), wrt: xs)
    evaluate(grads)
    // Differences of a gradient lose about one more digit than differences of a value.
    return compareWithCentralDifferences(c, values: values, analytic: grads.map { $0.doubles() }, f: hValue, tolerance: 10,
                                         label: "\(c.name) (2nd order)")
}
