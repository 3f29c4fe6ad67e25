// Fused attention (forward, lse and every gradient) against a plain Float64 definition, on odd sizes,
// for each SIMD path, with and without dropout on the probabilities.
import Testing
import CKernels
import TestSupport
@testable import Atelier

/// One attention problem: BH = batch · heads slices, bias [H, Tq, Tk] shared across the batch.
struct AttentionCase: CustomTestStringConvertible, Sendable {
    var batch: Int, heads: Int, tq: Int, tk: Int, d: Int, bias: Bool
    /// Drop probabilities with p = 0.2 (mask rows start mid-block: Tq·Tk is rarely a multiple of 64).
    var dropout = false
    var bh: Int { batch * heads }
    var testDescription: String { "B\(batch) H\(heads) Tq\(tq) Tk\(tk) D\(d)\(bias ? " bias" : "")\(dropout ? " dropout" : "")" }
    /// The mask: DropoutOp's, on the [BH, Tq, Tk] probabilities.
    var mask: DropoutOp? { dropout ? DropoutOp(seed: 0xA77E, start: 1_000_003, threshold: UInt32(0.8 * 4_294_967_296), scale: 1 / 0.8) : nil }
}

/// Float64 reference: the textbook definition, one row at a time; with a mask M (scaled), O = (P∘M)·V.
struct AttentionReference {
    var out: [Double], lse: [Double], dq: [Double], dk: [Double], dv: [Double], dbias: [Double]

    init(_ c: AttentionCase, q: [Float], k: [Float], v: [Float], bias: [Float]?, dout: [Float], scale: Double) {
        let (tq, tk, d) = (c.tq, c.tk, c.d)
        out = Array(repeating: 0, count: c.bh * tq * d); lse = Array(repeating: 0, count: c.bh * tq)
        dq = out; dk = Array(repeating: 0, count: c.bh * tk * d); dv = dk
        dbias = Array(repeating: 0, count: c.heads * tq * tk)
        var p = [Double](repeating: 0, count: tk), dp = p, m = p
        let mask = c.mask
        for bh in 0..<c.bh {
            let h = bh % c.heads
            for i in 0..<tq {
                let qi = (bh * tq + i) * d
                // logits and softmax: p_j = e^(l_j − lse)
                var top = -Double.infinity
                for j in 0..<tk {
                    let kj = (bh * tk + j) * d
                    var s = 0.0
                    for x in 0..<d { s += Double(q[qi + x]) * Double(k[kj + x]) }
                    p[j] = s * scale + (bias.map { Double($0[(h * tq + i) * tk + j]) } ?? 0)
                    top = max(top, p[j])
                    m[j] = mask.map { DropoutOp.keeps(element: (bh * tq + i) * tk + j, start: $0.start, seed: $0.seed,
                                                      threshold: $0.threshold) ? $0.scale : 0 } ?? 1
                }
                var sum = 0.0
                for j in 0..<tk { sum += Foundation_exp(p[j] - top) }
                let l = top + Foundation_log(sum)
                lse[bh * tq + i] = l
                for j in 0..<tk { p[j] = Foundation_exp(p[j] - l) }
                for j in 0..<tk {
                    let vj = (bh * tk + j) * d
                    for x in 0..<d { out[qi + x] += p[j] * m[j] * Double(v[vj + x]) }
                }
                // backward: dP = (dO·Vᵀ) ∘ M, dS = P ∘ (dP − Σ_j P dP)
                var delta = 0.0
                for j in 0..<tk {
                    let vj = (bh * tk + j) * d
                    var s = 0.0
                    for x in 0..<d { s += Double(dout[qi + x]) * Double(v[vj + x]) }
                    dp[j] = s * m[j]
                    delta += p[j] * dp[j]
                }
                for j in 0..<tk {
                    let kj = (bh * tk + j) * d
                    let ds = p[j] * (dp[j] - delta)
                    dbias[(h * tq + i) * tk + j] += ds
                    for x in 0..<d {
                        dv[kj + x] += p[j] * m[j] * Double(dout[qi + x])
                        dq[qi + x] += ds * Double(k[kj + x]) * scale
                        dk[kj + x] += ds * Double(q[qi + x]) * scale
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
private func Foundation_exp(_ x: Double) -> Double { exp(x) }
private func Foundation_log(_ x: Double) -> Double { log(x) }

extension CKernelsTests {
    @Suite struct Attention {
        static let cases: [AttentionCase] = [
            .init(batch: 1, heads: 1, tq: 1, tk: 1, d: 4, bias: false),
            .init(batch: 2, heads: 2, tq: 7, tk: 65, d: 16, bias: true),
            .init(batch: 3, heads: 1, tq: 65, tk: 7, d: 72, bias: false),
            .init(batch: 1, heads: 2, tq: 33, tk: 129, d: 96, bias: true),
            .init(batch: 2, heads: 1, tq: 9, tk: 1, d: 256, bias: true),
            .init(batch: 1, heads: 1, tq: 5, tk: 70, d: 256, bias: false),
            .init(batch: 1, heads: 1, tq: 1000, tk: 65, d: 16, bias: true),
            .init(batch: 1, heads: 1, tq: 7, tk: 1000, d: 4, bias: true),
            .init(batch: 2, heads: 2, tq: 7, tk: 65, d: 16, bias: true, dropout: true),
            .init(batch: 3, heads: 1, tq: 65, tk: 7, d: 72, bias: false, dropout: true),
            .init(batch: 1, heads: 2, tq: 33, tk: 129, d: 96, bias: true, dropout: true),
            .init(batch: 2, heads: 3, tq: 1, tk: 1, d: 4, bias: false, dropout: true),
        ]

        /// Batch elements sharing a head are grouped when the bias is large (Tq·Tk ≥ 2^18): groups of 5 and 4
        /// per slice, and slices of 9 same-head elements (more than one group of at most 8). The grouping is
        /// the same code on every level, and these references are slow: best level only.
        static let groupCases: [AttentionCase] = [
            .init(batch: 9, heads: 2, tq: 513, tk: 512, d: 4, bias: true),
            .init(batch: 18, heads: 1, tq: 520, tk: 505, d: 5, bias: true, dropout: true),
        ]

        /// Tolerance: float32 logits, an exp within ~2 ulp and sums of up to 1000 terms give relative errors
        /// of ~1e-6; 1e-5 · (1 + max |reference|) leaves ~10× margin while catching any indexing or masking
        /// error (those are O(1e-2) or larger).
        static func tolerance(_ reference: [Double]) -> Double {
            1e-5 * (1 + reference.reduce(0) { max($0, abs($1)) })
        }

        @Test(arguments: CKernelsTests.levels, cases)
        func matchesFloat64Reference(level: Int32, c: AttentionCase) {
            Self.check(level: level, c)
        }

        @Test(arguments: groupCases)
        func headGroupsMatchFloat64Reference(c: AttentionCase) {
            Self.check(level: ck_simd_level_supported(), c)
        }

        static func check(level: Int32, _ c: AttentionCase) {
            var rng = TestRNG(UInt64(c.tq * 31 + c.tk * 7 + c.d))
            let q = rng.floats(c.bh * c.tq * c.d), k = rng.floats(c.bh * c.tk * c.d)
            let v = rng.floats(c.bh * c.tk * c.d), dout = rng.floats(c.bh * c.tq * c.d)
            let bias: [Float]? = c.bias ? rng.floats(c.heads * c.tq * c.tk).map { $0 * 2 } : nil
            let scale = Float(1 / Double(c.d).squareRoot())
            let ref = AttentionReference(c, q: q, k: k, v: v, bias: bias, dout: dout, scale: Double(scale))

            // Outputs start as NaN: every row must be written. Two slices, as a parallel caller would split.
            var out = [Float](repeating: .nan, count: c.bh * c.tq * c.d), lse = [Float](repeating: .nan, count: c.bh * c.tq)
            var dq = out, dk = [Float](repeating: .nan, count: c.bh * c.tk * c.d), dv = dk
            let split = c.bh / 2
            // One zeroed dbias partial per slice, reduced in slice order.
            var partials = [[Float]](repeating: [Float](repeating: 0, count: c.heads * c.tq * c.tk), count: 2)
            var drop = c.mask.map(\.attentionDropout) ?? ck_attention_dropout()
            withSIMDLevel(level) {
                withUnsafePointer(to: &drop) { dropPointer in
                    let dropout = c.dropout ? dropPointer : nil
                    for (s, range) in [(0, 0..<split), (1, split..<c.bh)].enumerated() {
                        let (lo, hi) = (Int64(range.1.lowerBound), Int64(range.1.upperBound))
                        ck_attention_forward_f32(&out, &lse, q, k, v, bias, dropout, Int64(c.heads), Int64(c.tq), Int64(c.tk),
                                                 Int64(c.d), scale, lo, hi)
                        partials[s].withUnsafeMutableBufferPointer { dbias in
                            ck_attention_backward_f32(&dq, &dk, &dv, c.bias ? dbias.baseAddress : nil, q, k, v, bias, dropout, out,
                                                      dout, lse, Int64(c.heads), Int64(c.tq), Int64(c.tk), Int64(c.d), scale, lo, hi)
                        }
                    }
                }
            }
            #expect(maxAbsDifference(out, ref.out) <= Self.tolerance(ref.out), "out")
            #expect(maxAbsDifference(lse, ref.lse) <= Self.tolerance(ref.lse), "lse")
            #expect(maxAbsDifference(dq, ref.dq) <= Self.tolerance(ref.dq), "dq")
            #expect(maxAbsDifference(dk, ref.dk) <= Self.tolerance(ref.dk), "dk")
            #expect(maxAbsDifference(dv, ref.dv) <= Self.tolerance(ref.dv), "dv")
            if c.bias {
                let dbias = zip(partials[0], partials[1]).map { $0 + $1 }
                #expect(maxAbsDifference(dbias, ref.dbias) <= Self.tolerance(ref.dbias), "dbias")
            }
        }

        /// A slice writes only its own rows.
        @Test(arguments: CKernelsTests.levels)
        func sliceLeavesOtherRowsUntouched(level: Int32) {
            let (bh, t, d) = (3, 5, 8)
            var rng = TestRNG(9)
            let q = rng.floats(bh * t * d), k = rng.floats(bh * t * d), v = rng.floats(bh * t * d)
            var out = [Float](repeating: .nan, count: bh * t * d), lse = [Float](repeating: .nan, count: bh * t)
            withSIMDLevel(level) {
                ck_attention_forward_f32(&out, &lse, q, k, v, nil, nil, 1, Int64(t), Int64(t), Int64(d), 0.5, 1, 2)
            }
            #expect(out[0..<(t * d)].allSatisfy(\.isNaN) && out[(2 * t * d)...].allSatisfy(\.isNaN))
            #expect(out[(t * d)..<(2 * t * d)].allSatisfy { $0.isFinite })
            #expect(lse[0..<t].allSatisfy(\.isNaN) && lse[t..<(2 * t)].allSatisfy(\.isFinite))
        }
    }
}
