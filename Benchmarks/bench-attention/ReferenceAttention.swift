// Float64 reference on the first n slices: the textbook definition, row by row.
import Foundation

struct ReferenceAttention {
    var out, dq, dk, dv, dbias: [Double]

    init(_ w: Workload, slices n: Int) {
        let p = w.p, (tq, tk, d) = (p.tq, p.tk, p.d), scale = Double(w.scale)
        out = .init(repeating: 0, count: n * tq * d); dq = out
        dk = .init(repeating: 0, count: n * tk * d); dv = dk
        dbias = .init(repeating: 0, count: p.bias ? p.heads * tq * tk : 0)
        var pr = [Double](repeating: 0, count: tk), dp = pr
        let (q, k, v, dout) = (w.q.base, w.k.base, w.v.base, w.dout.base)
        for bh in 0..<n {
            let h = bh % p.heads
            for i in 0..<tq {
                let qi = (bh * tq + i) * d
                var m = -Double.infinity
                for j in 0..<tk {
                    let kj = (bh * tk + j) * d
                    var s = 0.0
                    for x in 0..<d { s += Double(q[qi + x]) * Double(k[kj + x]) }
                    pr[j] = s * scale + (w.bias.map { Double($0[(h * tq + i) * tk + j]) } ?? 0)
                    m = max(m, pr[j])
                }
                var sum = 0.0
                for j in 0..<tk { pr[j] = exp(pr[j] - m); sum += pr[j] }
                var delta = 0.0
                for j in 0..<tk {
                    pr[j] /= sum
                    let vj = (bh * tk + j) * d
                    var s = 0.0
                    for x in 0..<d {
                        out[qi + x] += pr[j] * Double(v[vj + x])
                        s += Double(dout[qi + x]) * Double(v[vj + x])
                    }
                    dp[j] = s
                    delta += pr[j] * s
                }
                for j in 0..<tk {
                    let kj = (bh * tk + j) * d, ds = pr[j] * (dp[j] - delta)
                    if p.bias { dbias[(h * tq + i) * tk + j] += ds }
                    for x in 0..<d {
                        dv[kj + x] += pr[j] * Double(dout[qi + x])
                        dq[qi + x] += ds * Double(k[kj + x]) * scale
                        dk[kj + x] += ds * Double(q[qi + x]) * scale
                    }
                }
            }
        }
    }

    /// max |reference − x| over the first slices (x may hold more).
    static func maxError(_ ref: [Double], _ x: SharedBuffer) -> Double {
        var e = 0.0
        for i in 0..<ref.count { e = max(e, abs(ref[i] - Double(x[i]))) }
        return e
    }
}
