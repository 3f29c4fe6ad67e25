// The fused dropout and ReLU kernels against their plain references on odd sizes, in place and out of place,
// for each SIMD path: all are exact (an integer mask, one multiply), so the paths must agree bit for bit.
import Testing
import CKernels
@testable import Atelier
import TestSupport

extension CKernelsTests {
    @Suite struct DropoutAndReLU {
        static let seed: UInt64 = 0xD15EA5E, start: UInt64 = 12_345

        /// The C kernel over a range of blocks that starts and ends mid-tensor, beside DropoutOp's host mask.
        @Test(arguments: CKernelsTests.levels)
        func dropoutMatchesHostMask(level: Int32) {
            let n = 64 * 37 + 29 // a partial last block
            var random = TestRNG(3)
            let xs = random.floats(n).map { $0 + 2 } // nonzero, so kept elements are visible
            let keep = 0.7, threshold = UInt32(keep * 4_294_967_296), scale = Float(1 / keep)
            var ys = [Float](repeating: .nan, count: n)
            withSIMDLevel(level) {
                // Two calls over disjoint block ranges, as two worker threads would make them.
                ck_dropout_f32(&ys, xs, Int64(n), 0, 5, Self.start, Self.seed, threshold, scale)
                ck_dropout_f32(&ys, xs, Int64(n), 5, Int64(DropoutOp.blocks(n) - 5), Self.start, Self.seed, threshold, scale)
            }
            var kept = 0
            for i in 0..<n {
                let keeps = DropoutOp.keeps(element: i, start: Self.start, seed: Self.seed, threshold: threshold)
                kept += keeps ? 1 : 0
                #expect(ys[i] == (keeps ? xs[i] * scale : 0), "element \(i)")
            }
            // 2,397 Bernoulli(0.7) draws: σ ≈ 22, so ±110 is a 5σ band.
            #expect(abs(kept - Int(keep * Double(n))) < 110, "kept \(kept) of \(n)")

            var inPlace = xs
            withSIMDLevel(level) {
                inPlace.withUnsafeMutableBufferPointer { p in
                    ck_dropout_f32(p.baseAddress, p.baseAddress, Int64(n), 0, Int64(DropoutOp.blocks(n)), Self.start, Self.seed, threshold, scale)
                }
            }
            #expect(inPlace == ys)
        }

        @Test(arguments: CKernelsTests.levels)
        func reluMatchesReference(level: Int32) {
            let n = 10_007
            var random = TestRNG(4)
            var xs = random.floats(n)
            xs[0] = .nan; xs[1] = -0.0; xs[2] = .infinity; xs[3] = -.infinity
            let gs = random.floats(n)
            var y = [Float](repeating: .nan, count: n), dx = [Float](repeating: .nan, count: n)
            withSIMDLevel(level) {
                ck_relu_forward_f32(&y, xs, Int64(n))
                ck_relu_backward_f32(&dx, y, gs, 1, Int64(n))
            }
            for i in 0..<n {
                let reference: Float = xs[i] > 0 ? xs[i] : 0 // NaN → 0
                #expect(y[i].bitPattern == reference.bitPattern, "relu element \(i): \(xs[i]) → \(y[i])")
                #expect(dx[i] == (reference > 0 ? gs[i] : 0), "relu backward element \(i)")
            }
            var inPlace = xs, gradInPlace = gs
            withSIMDLevel(level) {
                inPlace.withUnsafeMutableBufferPointer { p in ck_relu_forward_f32(p.baseAddress, p.baseAddress, Int64(n)) }
                gradInPlace.withUnsafeMutableBufferPointer { g in ck_relu_backward_f32(g.baseAddress, y, g.baseAddress, 1, Int64(n)) }
            }
            #expect(inPlace.map(\.bitPattern) == y.map(\.bitPattern))
            #expect(gradInPlace == dx)
        }

        /// ReLU then dropout in one kernel: bit for bit the two kernels in sequence (signed inputs, NaN, −0, a
        /// partial last block, two block ranges, in place), and its backward from the output alone.
        @Test(arguments: CKernelsTests.levels)
        func reluDropoutMatchesTwoKernels(level: Int32) {
            let n = 64 * 23 + 37
            var random = TestRNG(5)
            var xs = random.floats(n)
            xs[0] = .nan; xs[1] = -0.0; xs[2] = .infinity; xs[3] = -.infinity
            let gs = random.floats(n)
            let keep = 0.85, threshold = UInt32(keep * 4_294_967_296), scale = Float(1 / keep)
            var fused = [Float](repeating: .nan, count: n), relu = fused, twoPass = fused, dx = fused
            let blocks = Int64(DropoutOp.blocks(n))
            withSIMDLevel(level) {
                ck_relu_dropout_f32(&fused, xs, Int64(n), 0, 7, Self.start, Self.seed, threshold, scale)
                ck_relu_dropout_f32(&fused, xs, Int64(n), 7, blocks - 7, Self.start, Self.seed, threshold, scale)
                ck_relu_forward_f32(&relu, xs, Int64(n))
                ck_dropout_f32(&twoPass, relu, Int64(n), 0, blocks, Self.start, Self.seed, threshold, scale)
                ck_relu_backward_f32(&dx, fused, gs, scale, Int64(n))
            }
            #expect(fused.map(\.bitPattern) == twoPass.map(\.bitPattern))
            var positive = 0
            for i in 0..<n {
                let kept = DropoutOp.keeps(element: i, start: Self.start, seed: Self.seed, threshold: threshold)
                positive += kept && xs[i] > 0 ? 1 : 0
                // The chain rule of the two ops: ReLU′(x) · mask · scale · g.
                #expect(dx[i] == (kept && xs[i] > 0 ? gs[i] * scale : 0), "backward element \(i)")
            }
            #expect(positive > n / 4, "kept positives \(positive) of \(n)") // about 0.85 · ½ of them
            var inPlace = xs
            withSIMDLevel(level) {
                inPlace.withUnsafeMutableBufferPointer { p in
                    ck_relu_dropout_f32(p.baseAddress, p.baseAddress, Int64(n), 0, blocks, Self.start, Self.seed, threshold, scale)
                }
            }
            #expect(inPlace.map(\.bitPattern) == fused.map(\.bitPattern))
        }
    }
}
