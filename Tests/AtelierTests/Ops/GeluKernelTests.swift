// The vectorised float32 GELU kernels against the float64 libm formula.
import Foundation
import Testing
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
