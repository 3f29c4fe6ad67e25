// The vectorised float32 GELU kernels against the float64 libm formula, and the in-place paths of the
// elementwise loops.
import Foundation
import Testing
import CKernels
@testable import Atelier

@Test func geluKernelsMatchLibm() {
    let xs = stride(from: -9.0, through: 9.0, by: 0.0137).map { $0 }
    let x = Tensor(shape: [xs.count], values: xs)
    let g = Tensor(shape: [xs.count], values: xs.map { 1 + 0.1 * $0 })
    let y = x.gelu()
    let dx = gradients(of: (y * g).sum(), wrt: [x])[0]
    evaluate([y, dx])
    let yv = y.doubles(), dv = dx.doubles()
    var worstY = 0.0, worstD = 0.0
    for (i, v) in xs.enumerated() {
        let cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot()))
        let pdf = Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
        worstY = max(worstY, Swift.abs(yv[i] - v * cdf) / (1 + Swift.abs(v)))
        worstD = max(worstD, Swift.abs(dv[i] - (1 + 0.1 * v) * (cdf + v * pdf)))
    }
    // float32 rounding of x·Φ(x) is ~6e-8 relative; the erf approximation adds < 1.2e-7.
    #expect(worstY < 5e-7, "GELU max error \(worstY)")
    #expect(worstD < 1e-6, "GELU′ max error \(worstD)")
}

/// The executor runs GELU and its backward in place (out == in); the kernels must give the same bits then.
@Test func geluKernelsInPlaceMatchOutOfPlace() {
    let n = 10_007
    let xs = (0..<n).map { Float(sin(Double($0) * 0.37) * 6) }
    let gs = (0..<n).map { Float(cos(Double($0) * 0.11)) }
    var forward = [Float](repeating: 0, count: n), backward = [Float](repeating: 0, count: n)
    xs.withUnsafeBufferPointer { x in ck_gelu_forward_f32(&forward, x.baseAddress, Int64(n)) }
    xs.withUnsafeBufferPointer { x in gs.withUnsafeBufferPointer { g in ck_gelu_backward_f32(&backward, x.baseAddress, g.baseAddress, Int64(n)) } }
    var inPlace = xs
    inPlace.withUnsafeMutableBufferPointer { p in ck_gelu_forward_f32(p.baseAddress, p.baseAddress, Int64(n)) }
    #expect(inPlace == forward)
    var gradInPlace = gs
    xs.withUnsafeBufferPointer { x in gradInPlace.withUnsafeMutableBufferPointer { g in ck_gelu_backward_f32(g.baseAddress, x.baseAddress, g.baseAddress, Int64(n)) } }
    #expect(gradInPlace == backward)
}

/// The Swift elementwise loops take a separate path when the output is one of the inputs.
@Test func elementwiseLoopsInPlaceMatchOutOfPlace() {
    let n = 1_003
    let a = (0..<n).map { Double($0) * 0.5 - 7 }, b = (0..<n).map { 3 - Double($0) * 0.25 }
    let expectedZip = zip(a, b).map { $0 * $1 - $1 }, expectedMap = a.map { $0 * $0 + 1 }
    var y = a
    y.withUnsafeMutableBufferPointer { p in b.withUnsafeBufferPointer { q in
        zipElements(p.baseAddress!, UnsafePointer(p.baseAddress!), q.baseAddress!, n) { $0 * $1 - $1 } } }
    #expect(y == expectedZip)
    y = b
    y.withUnsafeMutableBufferPointer { p in a.withUnsafeBufferPointer { q in
        zipElements(p.baseAddress!, q.baseAddress!, UnsafePointer(p.baseAddress!), n) { $0 * $1 - $1 } } }
    #expect(y == expectedZip)
    y = a
    y.withUnsafeMutableBufferPointer { p in mapElements(p.baseAddress!, UnsafePointer(p.baseAddress!), n) { $0 * $0 + 1 } }
    #expect(y == expectedMap)
    var out = [Double](repeating: 0, count: n)
    out.withUnsafeMutableBufferPointer { p in a.withUnsafeBufferPointer { q in mapElements(p.baseAddress!, q.baseAddress!, n) { $0 * $0 + 1 } } }
    #expect(out == expectedMap)
}

/// Kernels run with subnormals flushed to zero (they would cost microcode assists); the caller's mode is restored.
@Test func executorFlushesSubnormals() {
    let a = Tensor(shape: [4], floats: [1e-30, 1e-30, 2, 3]), b = Tensor(shape: [4], floats: [1e-10, 1e-9, 0.5, 1e-39])
    let y = a * b
    evaluate([y])
    #expect(y.floats() == [0, 0, 1, 0])
    // Outside evaluate the default IEEE mode is back: a subnormal product survives.
    let tiny = Float(1e-30) * Float(opaque(1e-10))
    #expect(tiny > 0)
}

@inline(never) func opaque(_ x: Float) -> Float { x }
