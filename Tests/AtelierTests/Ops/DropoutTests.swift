// Dropout as one op: float32 and float64 draw the same mask, the gradient applies that mask to the incoming
// gradient, and the same generator state gives the same mask again (what a resumed run relies on). ReLU then
// dropout fused into one op gives the two ops' bits.
import Testing
@testable import Atelier

@Test func dropoutFloat32AndFloat64ShareTheMask() {
    let n = 1_000 // not a multiple of the 64-element block
    let values = (0..<n).map { 1 + Double($0 % 7) }
    let y32 = Tensor(shape: [n], values: values, dtype: .float32).dropout(0.25, rng: RandomGenerator(seed: 9)).floats()
    let y64 = Tensor(shape: [n], values: values, dtype: .float64).dropout(0.25, rng: RandomGenerator(seed: 9)).doubles()
    for i in 0..<n {
        #expect((y32[i] == 0) == (y64[i] == 0), "element \(i)")
        #expect(abs(Double(y32[i]) - y64[i]) <= 1e-6 * y64[i], "element \(i)")
        #expect(y64[i] == 0 || abs(y64[i] - values[i] / 0.75) < 1e-12)
    }
    let dropped = y64.filter { $0 == 0 }.count
    #expect(abs(dropped - 250) < 70, "dropped \(dropped) of \(n) at p = 0.25") // σ ≈ 13.7: a 5σ band
}

@Test func dropoutGradientIsItsMask() {
    let x = Tensor(shape: [3, 50], values: (0..<150).map { Double($0) / 10 - 7 }, dtype: .float64)
    let g = Tensor(shape: [3, 50], values: (0..<150).map { 0.5 + Double($0 % 5) }, dtype: .float64)
    let y = x.dropout(0.4, rng: RandomGenerator(seed: 21))
    let dx = gradients(of: (y * g).sum(), wrt: [x])[0]
    evaluate([y, dx])
    let yv = y.doubles(), dv = dx.doubles(), xv = x.doubles(), gv = g.doubles()
    for i in 0..<150 where xv[i] != 0 {
        let kept = yv[i] != 0
        #expect(abs(dv[i] - (kept ? gv[i] / 0.6 : 0)) < 1e-12, "element \(i)")
    }
}

@Test func dropoutDrawsFollowTheGenerator() {
    let x = Tensor(shape: [257], values: [Double](repeating: 1, count: 257), dtype: .float32)
    let rng = RandomGenerator(seed: 4)
    let first = x.dropout(0.5, rng: rng).floats()
    let second = x.dropout(0.5, rng: rng).floats()
    let replay = x.dropout(0.5, rng: RandomGenerator(seed: 4)).floats()
    #expect(first == replay)
    #expect(first != second)
    #expect(rng.offset == 2 * UInt64(DropoutOp.counters(257)))
}

/// The fused op draws the same mask from the same generator state as `relu().dropout(p)`, so a training run
/// gives the same bits either way; its gradient agrees with the two ops' chain rule exactly.
@Test(arguments: [DType.float32, .float64])
func reluDropoutIsReluThenDropout(dtype: DType) {
    let n = 3 * 67
    let x = Tensor(shape: [3, 67], values: (0..<n).map { Double(($0 * 37) % 101) / 16 - 3 }, dtype: dtype)
    let g = Tensor(shape: [3, 67], values: (0..<n).map { 0.5 + Double($0 % 5) }, dtype: dtype)
    let fusedRNG = RandomGenerator(seed: 31), plainRNG = RandomGenerator(seed: 31)
    let fused = x.reluDropout(0.2, rng: fusedRNG), plain = x.relu().dropout(0.2, rng: plainRNG)
    let dFused = gradients(of: (fused * g).sum(), wrt: [x])[0], dPlain = gradients(of: (plain * g).sum(), wrt: [x])[0]
    evaluate([fused, plain, dFused, dPlain])
    #expect(fused.doubles() == plain.doubles())
    #expect(dFused.doubles() == dPlain.doubles())
    #expect(fusedRNG.offset == plainRNG.offset)
    let zeros = fused.doubles().filter { $0 == 0 }.count
    #expect(zeros > n / 2 && zeros < n, "zeros \(zeros) of \(n): the negatives and about a fifth of the positives")
}
