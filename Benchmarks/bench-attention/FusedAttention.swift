// The fused kernels (CKernels) run over BH slices on the pool, one contiguous slice per thread.
import CKernels

struct FusedAttention {
    let w: Workload, r: AttentionResult, threads: Int
    let lse: SharedBuffer                 // [BH, Tq]
    let partials: [SharedBuffer]          // per-thread dbias [H, Tq, Tk], reduced in thread order

    init(_ w: Workload, threads: Int) {
        self.w = w; self.threads = threads
        r = AttentionResult(w.p)
        lse = SharedBuffer(count: w.p.bh * w.p.tq)
        partials = w.p.bias ? (0..<min(threads, w.p.bh)).map { _ in SharedBuffer(count: w.p.heads * w.p.tq * w.p.tk) } : []
    }
    func free() { r.free(); lse.free(); partials.forEach { $0.free() } }

    /// Bytes beyond inputs, outputs and gradients: per-thread scratch, lse, dbias partials.
    func extraBytes(backward: Bool) -> Int {
        let p = w.p, workers = min(threads, p.bh)
        let fwd = Int(ck_attention_scratch_bytes_f32(Int64(p.tq), Int64(p.tk), Int64(p.d), 0))
        let bwd = Int(ck_attention_scratch_bytes_f32(Int64(p.tq), Int64(p.tk), Int64(p.d), 1))
        let lseBytes = p.bh * p.tq * 4
        return backward ? workers * max(fwd, bwd) + lseBytes + partials.count * p.heads * p.tq * p.tk * 4
            : workers * fwd + lseBytes
    }

    func forward() {
        let (p, w, r, lse) = (w.p, w, r, lse)
        parallelSlices(p.bh, parts: threads) { _, s in
            ck_attention_forward_f32(r.out.base, lse.base, w.q.base, w.k.base, w.v.base, w.bias?.base, nil,
                                     Int64(p.heads), Int64(p.tq), Int64(p.tk), Int64(p.d), w.scale,
                                     Int64(s.lowerBound), Int64(s.upperBound))
        }
    }

    func backward() {
        let (p, w, r, lse, partials) = (w.p, w, r, lse, partials)
        parallelSlices(p.bh, parts: threads) { t, s in
            let db = partials.isEmpty ? nil : partials[t]
            db?.zero()
            ck_attention_backward_f32(r.dq.base, r.dk.base, r.dv.base, db?.base, w.q.base, w.k.base, w.v.base,
                                      w.bias?.base, nil, r.out.base, w.dout.base, lse.base, Int64(p.heads),
                                      Int64(p.tq), Int64(p.tk), Int64(p.d), w.scale,
                                      Int64(s.lowerBound), Int64(s.upperBound))
        }
        if let dbias = r.dbias { reducePartials(partials, into: dbias, threads: threads) }
    }

    /// Validation of dbias on a subset: slices [0, n) alone into a fresh buffer.
    func dbiasOfFirstSlices(_ n: Int) -> [Float]? {
        guard w.p.bias else { return nil }
        let p = w.p
        let db = SharedBuffer(count: p.heads * p.tq * p.tk), scratch = AttentionResult(p)
        defer { db.free(); scratch.free() }
        ck_attention_backward_f32(scratch.dq.base, scratch.dk.base, scratch.dv.base, db.base, w.q.base, w.k.base,
                                  w.v.base, w.bias?.base, nil, r.out.base, w.dout.base, lse.base, Int64(p.heads),
                                  Int64(p.tq), Int64(p.tk), Int64(p.d), w.scale, 0, Int64(n))
        return Array(UnsafeBufferPointer(start: db.base, count: db.count))
    }
}

/// dbias = Σ_t partials[t], summed in t order for every element (deterministic), elements split over threads.
func reducePartials(_ partials: [SharedBuffer], into out: SharedBuffer, threads: Int) {
    parallelSlices(out.count, parts: threads) { _, s in
        for i in s {
            var acc: Float = 0
            for part in partials { acc += part[i] }
            out[i] = acc
        }
    }
}
