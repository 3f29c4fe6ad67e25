// The unfused baseline: cblas_sgemm for every product, ck_softmax_rows_f32, and the probability matrix
// P [BH, Tq, Tk] kept for the backward pass, as an autodiff graph of primitive ops would.
//   forward:  S = scale·Q·Kᵀ (+ bias), P = softmax(S), O = P·V
//   backward: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dP ∘ P)), dQ = scale·dS·K, dK = scale·dSᵀ·Q
import COpenBLAS
import CKernels

struct CompositeAttention {
    enum Mode: String { case sliced, batched }
    let w: Workload, r: AttentionResult, threads: Int
    let pm, dsm: SharedBuffer            // [BH, Tq, Tk] probabilities; dP then dS
    let partials: [SharedBuffer]         // per-thread dbias partials (sliced mode)
    var mode: Mode = .sliced

    init(_ w: Workload, threads: Int) {
        self.w = w; self.threads = threads
        r = AttentionResult(w.p)
        pm = SharedBuffer(count: w.p.bh * w.p.tq * w.p.tk); dsm = SharedBuffer(count: w.p.bh * w.p.tq * w.p.tk)
        partials = w.p.bias ? (0..<min(threads, w.p.bh)).map { _ in SharedBuffer(count: w.p.heads * w.p.tq * w.p.tk) } : []
    }
    func free() { r.free(); pm.free(); dsm.free(); partials.forEach { $0.free() } }

    func extraBytes(backward: Bool) -> Int {
        let p = w.p, tile = p.bh * p.tq * p.tk * 4
        return backward ? 2 * tile + partials.count * p.heads * p.tq * p.tk * 4 : tile
    }

    /// sliced: BH slices on the pool, OpenBLAS single-threaded inside; batched: one GEMM after another on
    /// OpenBLAS's threads, elementwise steps on the pool.
    func prepare() { openblas_set_num_threads(mode == .sliced ? 1 : Int32(threads)) }

    func forward() {
        let (p, w, r, pm) = (w.p, w, r, pm)
        let scores: @Sendable (Int) -> Void = { bh in
            let s = pm.base + bh * p.tq * p.tk
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(p.tq), Int32(p.tk), Int32(p.d), w.scale,
                        w.q.base + bh * p.tq * p.d, Int32(p.d), w.k.base + bh * p.tk * p.d, Int32(p.d), 0, s, Int32(p.tk))
        }
        let softmax: @Sendable (Int) -> Void = { bh in
            let s = pm.base + bh * p.tq * p.tk
            if let bias = w.bias {
                let b = bias.base + (bh % p.heads) * p.tq * p.tk
                for i in 0..<(p.tq * p.tk) { s[i] += b[i] }
            }
            ck_softmax_rows_f32(s, s, Int64(p.tq), Int64(p.tk))
        }
        let values: @Sendable (Int) -> Void = { bh in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(p.tq), Int32(p.d), Int32(p.tk), 1,
                        pm.base + bh * p.tq * p.tk, Int32(p.tk), w.v.base + bh * p.tk * p.d, Int32(p.d), 0,
                        r.out.base + bh * p.tq * p.d, Int32(p.d))
        }
        switch mode {
        case .sliced:
            parallelSlices(p.bh, parts: threads) { _, s in for bh in s { scores(bh); softmax(bh); values(bh) } }
        case .batched:
            for bh in 0..<p.bh { scores(bh) }
            parallelSlices(p.bh, parts: threads) { _, s in for bh in s { softmax(bh) } }
            for bh in 0..<p.bh { values(bh) }
        }
    }

    func backward() {
        let (p, w, r, pm, dsm, partials) = (w.p, w, r, pm, dsm, partials)
        let gemmsBeforeDS: @Sendable (Int) -> Void = { bh in
            let pb = pm.base + bh * p.tq * p.tk, dob = w.dout.base + bh * p.tq * p.d
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p.tk), Int32(p.d), Int32(p.tq), 1,
                        pb, Int32(p.tk), dob, Int32(p.d), 0, r.dv.base + bh * p.tk * p.d, Int32(p.d))    // dV = Pᵀ·dO
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(p.tq), Int32(p.tk), Int32(p.d), 1,
                        dob, Int32(p.d), w.v.base + bh * p.tk * p.d, Int32(p.d), 0, dsm.base + bh * p.tq * p.tk,
                        Int32(p.tk))                                                                    // dP = dO·Vᵀ
        }
        let softmaxBackward: @Sendable (Int, Int) -> Void = { bh, t in
            let pb = pm.base + bh * p.tq * p.tk, ds = dsm.base + bh * p.tq * p.tk
            for i in 0..<p.tq {
                let prow = pb + i * p.tk, drow = ds + i * p.tk
                var delta: Float = 0
                for j in 0..<p.tk { delta += prow[j] * drow[j] }
                for j in 0..<p.tk { drow[j] = prow[j] * (drow[j] - delta) }
            }
            if !partials.isEmpty {
                let db = partials[t].base + (bh % p.heads) * p.tq * p.tk
                for i in 0..<(p.tq * p.tk) { db[i] += ds[i] }
            }
        }
        let gemmsAfterDS: @Sendable (Int) -> Void = { bh in
            let ds = dsm.base + bh * p.tq * p.tk
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(p.tq), Int32(p.d), Int32(p.tk), w.scale,
                        ds, Int32(p.tk), w.k.base + bh * p.tk * p.d, Int32(p.d), 0, r.dq.base + bh * p.tq * p.d,
                        Int32(p.d))                                                                     // dQ = scale·dS·K
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p.tk), Int32(p.d), Int32(p.tq), w.scale,
                        ds, Int32(p.tk), w.q.base + bh * p.tq * p.d, Int32(p.d), 0, r.dk.base + bh * p.tk * p.d,
                        Int32(p.d))                                                                     // dK = scale·dSᵀ·Q
        }
        switch mode {
        case .sliced:
            parallelSlices(p.bh, parts: threads) { t, s in
                if !partials.isEmpty { partials[t].zero() }
                for bh in s { gemmsBeforeDS(bh); softmaxBackward(bh, t); gemmsAfterDS(bh) }
            }
        case .batched:
            for bh in 0..<p.bh { gemmsBeforeDS(bh) }
            parallelSlices(p.bh, parts: threads) { t, s in
                if !partials.isEmpty { partials[t].zero() }
                for bh in s { softmaxBackward(bh, t) }
            }
            for bh in 0..<p.bh { gemmsAfterDS(bh) }
        }
        if let dbias = r.dbias { reducePartials(partials, into: dbias, threads: threads) }
    }
}
