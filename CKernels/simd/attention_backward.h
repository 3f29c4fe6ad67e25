// Fused attention backward for one SIMD level (FlashAttention-2 style), after attention_forward.h.
// Forward: S = Q·Kᵀ·scale + bias, P = softmax_rows(S) = e^(S − lse), O = P·V. Its adjoint, per tile:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ∘ (dP − δ) with δ_i = Σ_j P_ij dP_ij = rowsum(dO ∘ O)_i,
//   dQ += dS·K·scale,  dK += dSᵀ·Q·scale,  dbias += dS.
// Same layout as the forward: queries along the vector lanes, so Sᵀ, Pᵀ, dPᵀ and dSᵀ tiles [BK][BQ] take
// lse and δ as plain vectors, and K and V are broadcast from the caller's rows (never packed). Per head,
// Qᵀ·scale, dOᵀ and the dQᵀ accumulator [D][Tq] and the padded rows of Q and dO are prepared once (O(Tq·D)
// scratch). Key blocks outermost so the dK, dV accumulators of a block stay in cache; P is recomputed.

#ifndef CK_BKB
#define CK_BKB 64 // keys per backward block
#endif

/// b[i][j] += st[j][i] (ld of b: ldb) for i < nq, j < nk: a transposed tile accumulated into rows.
static void add_to_rows_transposed(float *b, int64_t ldb, const float *st, int64_t ldst, int64_t nq, int64_t nk) {
    int64_t j0 = 0;
    for (; j0 + CK_VLEN <= nk; j0 += CK_VLEN) {
        int64_t i0 = 0;
        for (; i0 + CK_VLEN <= nq; i0 += CK_VLEN) {
            vf r[CK_VLEN];
            for (int j = 0; j < CK_VLEN; j++) r[j] = vf_load(st + (j0 + j) * ldst + i0);
            vf_transpose(r);
            for (int i = 0; i < CK_VLEN; i++) vf_store(b + (i0 + i) * ldb + j0, vf_load(b + (i0 + i) * ldb + j0) + r[i]);
        }
        for (int64_t i = i0; i < nq; i++)
            for (int64_t j = j0; j < j0 + CK_VLEN; j++) b[i * ldb + j] += st[j * ldst + i];
    }
    for (int64_t i = 0; i < nq; i++)
        for (int64_t j = j0; j < nk; j++) b[i * ldb + j] += st[j * ldst + i];
}

int64_t CK_NAME(attention_backward_scratch)(int64_t tq, int64_t d) {
    const int64_t dp = ck_round_up(d, CK_VLEN), tqp = ck_round_up(tq, CK_BQ);
    // qt, dot, dqt [D][tqp]; lsev, delta [tqp]; qp, dop [tq][dp]; st, dpt [BKB][BQ]; dka, dva [BKB][dp]
    return (int64_t)sizeof(float) *
           (3 * d * tqp + 2 * tqp + 2 * tq * dp + 2 * CK_BKB * CK_BQ + 2 * CK_BKB * dp);
}

/// The work of one (key block, query block) tile for a compile-time number NQV of query vectors.
CK_INLINE void backward_tile(int NQV, int64_t nq, int64_t nk, int64_t d, int64_t dp, int64_t tqp, const float *kb,
                             const float *vb, const float *bblk, int64_t tk, float *dbblk, const float *qt,
                             const float *dot, float *dqt, const float *lsev, const float *delta, const float *qp,
                             const float *dop, float *st, float *dpt, float *dka, float *dva) {
    const int64_t BQ = NQV * CK_VLEN, dvec = dp / CK_VLEN;
    tile_panel(NQV, nk, d, kb, d, 1, qt, tqp, st, BQ, CK_ZERO, NULL); // Sᵀ = K·Qᵀ·scale
    if (bblk) add_transposed(st, BQ, bblk, tk, nq, nk);
    vf l[4], dl[4];
    for (int v = 0; v < NQV; v++) { l[v] = vf_load(lsev + v * CK_VLEN); dl[v] = vf_load(delta + v * CK_VLEN); }
    for (int64_t j = 0; j < nk; j++)
        for (int v = 0; v < NQV; v++)
            vf_store(st + j * BQ + v * CK_VLEN, vf_exp_nonpos(vf_load(st + j * BQ + v * CK_VLEN) - l[v])); // Pᵀ
    tile_gemm(nk, dvec, nq, st, BQ, 1, dop, dp, dva, dp, CK_ACCUMULATE);  // dV += Pᵀ·dO
    tile_panel(NQV, nk, d, vb, d, 1, dot, tqp, dpt, BQ, CK_ZERO, NULL); // dPᵀ = V·dOᵀ
    for (int64_t j = 0; j < nk; j++)
        for (int v = 0; v < NQV; v++) {
            float *x = dpt + j * BQ + v * CK_VLEN;
            vf_store(x, vf_load(st + j * BQ + v * CK_VLEN) * (vf_load(x) - dl[v])); // dSᵀ
        }
    if (dbblk) add_to_rows_transposed(dbblk, tk, dpt, BQ, nq, nk);
    tile_panel(NQV, d, nk, kb, 1, d, dpt, BQ, dqt, tqp, CK_ACCUMULATE, NULL); // dQᵀ += Kᵀ·dSᵀ
    tile_gemm(nk, dvec, nq, dpt, BQ, 1, qp, dp, dka, dp, CK_ACCUMULATE);      // dK += dSᵀ·Q
}

void CK_NAME(attention_backward)(float *dq, float *dk, float *dv, float *dbias, const float *q, const float *k,
                                 const float *v, const float *bias, const float *out, const float *dout,
                                 const float *lse, int64_t heads, int64_t tq, int64_t tk, int64_t d, float scale,
                                 int64_t bh_begin, int64_t bh_end) {
    const int64_t dp = ck_round_up(d, CK_VLEN), tqp = ck_round_up(tq, CK_BQ);
    float *scratch = aligned_alloc(64, (size_t)ck_round_up(CK_NAME(attention_backward_scratch)(tq, d), 64));
    float *qt = scratch;              // [D][tqp]   Qᵀ·scale
    float *dot = qt + d * tqp;        // [D][tqp]   dOᵀ
    float *dqt = dot + d * tqp;       // [D][tqp]   dQᵀ accumulator (unscaled)
    float *lsev = dqt + d * tqp;      // [tqp]      lse (+inf for masked rows and padding: P = 0)
    float *delta = lsev + tqp;        // [tqp]      δ = rowsum(dO ∘ O) (0 for padding)
    float *qp = delta + tqp;          // [tq][dp]   Q rows padded (for dK)
    float *dop = qp + tq * dp;        // [tq][dp]   dO rows padded (for dV)
    float *st = dop + tq * dp;        // [BKB][BQ]  Sᵀ, then Pᵀ
    float *dpt = st + CK_BKB * CK_BQ; // [BKB][BQ]  dPᵀ, then dSᵀ
    float *dka = dpt + CK_BKB * CK_BQ; // [BKB][dp] dK accumulator (unscaled)
    float *dva = dka + CK_BKB * dp;   // [BKB][dp]  dV accumulator

    for (int64_t bh = bh_begin; bh < bh_end; bh++) {
        const float *qh = q + bh * tq * d, *kh = k + bh * tk * d, *vh = v + bh * tk * d;
        const float *oh = out + bh * tq * d, *doh = dout + bh * tq * d, *lh = lse + bh * tq;
        const float *bh_bias = bias ? bias + (bh % heads) * tq * tk : NULL; // [Tq, Tk]
        float *bh_dbias = dbias ? dbias + (bh % heads) * tq * tk : NULL;   // [Tq, Tk], accumulated
        pack_transposed_scaled(qt, tqp, qh, tq, d, scale);
        pack_transposed_scaled(dot, tqp, doh, tq, d, 1.0f);
        memset(dqt, 0, (size_t)(d * tqp) * sizeof(float));
        for (int64_t i = 0; i < tqp; i++) {
            float acc = 0.0f;
            if (i < tq)
                for (int64_t c = 0; c < d; c++) acc += doh[i * d + c] * oh[i * d + c];
            delta[i] = acc;
            // A fully masked row (lse = −inf) had P = 0 and output 0: it passes no gradient.
            lsev[i] = i < tq && lh[i] != -INFINITY ? lh[i] : INFINITY;
        }
        const float *qrows = qh, *dorows = doh;
        if (dp != d) {
            pack_rows(qp, qh, tq, tq, d, dp);
            pack_rows(dop, doh, tq, tq, d, dp);
            qrows = qp;
            dorows = dop;
        }

        for (int64_t k0 = 0; k0 < tk; k0 += CK_BKB) {
            const int64_t nk = tk - k0 < CK_BKB ? tk - k0 : CK_BKB;
            memset(dka, 0, (size_t)(nk * dp) * sizeof(float));
            memset(dva, 0, (size_t)(nk * dp) * sizeof(float));
            for (int64_t i0 = 0; i0 < tq; i0 += CK_BQ) {
                const int64_t nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
                const float *bblk = bh_bias ? bh_bias + i0 * tk + k0 : NULL;
                float *dbblk = bh_dbias ? bh_dbias + i0 * tk + k0 : NULL;
                switch ((nq + CK_VLEN - 1) / CK_VLEN) {
#define CK_BWD_CASE(NQV)                                                                                       \
    case NQV:                                                                                                  \
        if (NQV <= CK_NQV)                                                                                     \
            backward_tile(NQV <= CK_NQV ? NQV : 1, nq, nk, d, dp, tqp, kh + k0 * d, vh + k0 * d, bblk, tk,     \
                          dbblk, qt + i0, dot + i0, dqt + i0, lsev + i0, delta + i0, qrows + i0 * dp,          \
                          dorows + i0 * dp, st, dpt, dka, dva);                                                \
        break;
                    CK_BWD_CASE(1) CK_BWD_CASE(2) CK_BWD_CASE(3) CK_BWD_CASE(4)
#undef CK_BWD_CASE
                }
            }
            for (int64_t j = 0; j < nk; j++)
                for (int64_t c = 0; c < d; c++) {
                    dk[(bh * tk + k0 + j) * d + c] = dka[j * dp + c] * scale;
                    dv[(bh * tk + k0 + j) * d + c] = dva[j * dp + c];
                }
        }
        for (int64_t i = 0; i < tq; i++)
            for (int64_t c = 0; c < d; c++) dq[(bh * tq + i) * d + c] = dqt[c * tqp + i] * scale;
    }
    free(scratch);
}
