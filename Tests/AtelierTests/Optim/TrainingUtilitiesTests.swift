// The finiteness check of gradients: every non-finite kind, both dtypes, in any chunk of a large tensor.
import Testing
@testable import Atelier

@Test func allFiniteFindsEveryNonFiniteValueInEitherDType() {
    // 200,003 elements: several 65,536-element chunks and a ragged last one; the bad value goes first, in a
    // middle chunk and last, and is infinity, −infinity or NaN (subnormals and the largest finite value pass).
    let n = 200_003
    for position in [0, 131_072, n - 1] {
        for bad in [Double.infinity, -Double.infinity, Double.nan] {
            var values = [Double](repeating: 0.5, count: n)
            values[1] = Double(Float.greatestFiniteMagnitude)
            values[2] = Double(Float.leastNonzeroMagnitude)
            let finite32 = Tensor(shape: [n], floats: values.map(Float.init))
            let finite64 = Tensor(shape: [n], values: values)
            #expect(allFinite([finite32, finite64]))
            values[position] = bad
            #expect(!allFinite([finite32, Tensor(shape: [n], floats: values.map(Float.init))]), "f32 \(bad) at \(position)")
            #expect(!allFinite([Tensor(shape: [n], values: values), finite64]), "f64 \(bad) at \(position)")
        }
    }
    #expect(allFinite([Tensor(shape: [0], values: [])]))
}
