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

/// Σ a[c]·b[c] over one row in vector lanes (as a scalar chain it was latency-bound at large D).
static float row_dot(const float *a, const float *b, int64_t d) {
    vf acc = vf_splat(0.0f);
    int64_t c = 0;
    for (; c + CK_VLEN <= d; c += CK_VLEN) acc = vf_fma(vf_load(a + c), vf_load(b + c), acc);
    float sum = vf_hsum(acc);
    for (; c < d; c++) sum += a[c] * b[c];
    return sum;
}

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

/// Per group member: blocked Qᵀ·scale, dOᵀ and dQᵀ [Tq/BQ][D][BQ], lse and δ [tqp], padded Q and dO rows
/// [Tq][dp], dK and dV accumulators [BKB][dp].
static int64_t backward_member_floats(int64_t tq, int64_t d) {
    const int64_t dp = ck_round_up(d, CK_VLEN), tqp = ck_round_up(tq, CK_BQ);
    return ck_round_up(3 * d * tqp + 2 * tqp + 2 * tq * dp + 2 * CK_BKB * dp, 16);
}

/// Group size of the backward with a bias: members' scratch within ~2 MB (an L2), at most CK_GROUP.
static int backward_group(int64_t tq, int64_t d) {
    const int64_t g = (int64_t)(512 * 1024) / backward_member_floats(tq, d);
    return g < 1 ? 1 : g > CK_GROUP ? CK_GROUP : (int)g;
}

int64_t CK_NAME(attention_backward_scratch)(int64_t tq, int64_t tk, int64_t d) {
    // group members, plus shared st, dpt, bt, dbt, mt, pmt [BKB][BQ] (the size with a bias: an upper bound)
    const int group = tq * tk >= CK_GROUP_MIN_BIAS ? backward_group(tq, d) : 1;
    return (int64_t)sizeof(float) * (group * backward_member_floats(tq, d) + 6 * CK_BKB * CK_BQ);
}

/// Scratch of one group member.
typedef struct {
    float *qt, *dot, *dqt; // [Tq/BQ][D][BQ] blocked: Qᵀ·scale, dOᵀ, dQᵀ accumulator (unscaled)
    float *lsev, *delta;   // [tqp] lse (+inf for masked rows and padding: P = 0), δ = rowsum(dO ∘ O)
    const float *qrows, *dorows; // [Tq][dp] Q and dO rows, padded to dp (the caller's rows when dp = D)
    float *dka, *dva;      // [BKB][dp] dK (unscaled) and dV accumulators of the key block
} backward_member;

/// The work of one (key block, query block) tile for a compile-time number NQV of query vectors.
CK_INLINE void backward_tile(int NQV, int64_t nq, int64_t nk, int64_t d, int64_t dp, const float *kb,
                             const float *vb, const float *bt, float *dbt, const float *qt, const float *dot,
                             float *dqt, const float *lsev, const float *delta, const float *qp,
                             const float *dop, const ck_attention_dropout *drop, int64_t e_row0, int64_t tk,
                             float *st, float *dpt, float *mt, float *pmt, float *dka, float *dva) {
    const int64_t BQ = NQV * CK_VLEN, dvec = dp / CK_VLEN;
    tile_panel(NQV, nk, d, kb, d, 1, qt, CK_BQ, st, BQ, CK_ZERO, NULL); // Sᵀ = K·Qᵀ·scale
    vf l[4], dl[4];
    for (int v = 0; v < NQV; v++) { l[v] = vf_load(lsev + v * CK_VLEN); dl[v] = vf_load(delta + v * CK_VLEN); }
    for (int64_t j = 0; j < nk; j++)
        for (int v = 0; v < NQV; v++) {
            vf x = vf_load(st + j * BQ + v * CK_VLEN);
            if (bt) x += vf_load(bt + j * BQ + v * CK_VLEN);
            vf_store(st + j * BQ + v * CK_VLEN, vf_exp_nonpos(x - l[v])); // Pᵀ
        }
    // With dropout M (scaled): O = (P∘M)·V, so dV += (P∘M)ᵀ·dO and the gradient reaching P is dP ∘ M; δ is
    // unchanged (rowsum(dO ∘ O) = Σ_j P_ij (dP ∘ M)_ij).
    if (drop) {
        dropout_mask_tile(mt, BQ, nq, BQ, nk, e_row0, tk, drop);
        for (int64_t j = 0; j < nk; j++)
            for (int v = 0; v < NQV; v++)
                vf_store(pmt + j * BQ + v * CK_VLEN, vf_load(st + j * BQ + v * CK_VLEN) * vf_load(mt + j * BQ + v * CK_VLEN));
    }
    tile_gemm(nk, dvec, nq, drop ? pmt : st, BQ, 1, dop, dp, dva, dp, CK_ACCUMULATE); // dV += (P∘M)ᵀ·dO
    tile_panel(NQV, nk, d, vb, d, 1, dot, CK_BQ, dpt, BQ, CK_ZERO, NULL);             // dPᵀ = V·dOᵀ
    for (int64_t j = 0; j < nk; j++)
        for (int v = 0; v < NQV; v++) {
            float *x = dpt + j * BQ + v * CK_VLEN;
            vf dp_ = drop ? vf_load(x) * vf_load(mt + j * BQ + v * CK_VLEN) : vf_load(x);
            vf ds = vf_load(st + j * BQ + v * CK_VLEN) * (dp_ - dl[v]); // dSᵀ
            vf_store(x, ds);
            if (dbt) vf_store(dbt + j * BQ + v * CK_VLEN, vf_load(dbt + j * BQ + v * CK_VLEN) + ds);
        }
    tile_panel(NQV, d, nk, kb, 1, d, dpt, BQ, dqt, CK_BQ, CK_ACCUMULATE, NULL); // dQᵀ += Kᵀ·dSᵀ
    tile_gemm(nk, dvec, nq, dpt, BQ, 1, qp, dp, dka, dp, CK_ACCUMULATE);        // dK += dSᵀ·Q
}

void CK_NAME(attention_backward)(float *dq, float *dk, float *dv, float *dbias, const float *q, const float *k,
                                 const float *v, const float *bias, const ck_attention_dropout *drop,
                                 const float *out, const float *dout, const float *lse, int64_t heads, int64_t tq,
                                 int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end) {
    const int64_t dp = ck_round_up(d, CK_VLEN), tqp = ck_round_up(tq, CK_BQ), nblk = tqp / CK_BQ;
    const int group = (bias || dbias) && tq * tk >= CK_GROUP_MIN_BIAS ? backward_group(tq, d) : 1;
    const int64_t member = backward_member_floats(tq, d);
    float *scratch = aligned_alloc(64, (size_t)ck_round_up(CK_NAME(attention_backward_scratch)(tq, tk, d), 64));
    float *st = scratch + group * member; // [BKB][BQ]  Sᵀ, then Pᵀ
    float *dpt = st + CK_BKB * CK_BQ;     // [BKB][BQ]  dPᵀ, then dSᵀ
    float *bt = dpt + CK_BKB * CK_BQ;     // [BKB][BQ]  bias tile, transposed
    float *dbt = bt + CK_BKB * CK_BQ;     // [BKB][BQ]  d(bias) tile of the group, transposed
    float *mt = dbt + CK_BKB * CK_BQ;     // [BKB][BQ]  dropout multipliers, transposed
    float *pmt = mt + CK_BKB * CK_BQ;     // [BKB][BQ]  Pᵀ ∘ M
    backward_member mem[CK_GROUP];
    for (int g = 0; g < group; g++) {
        float *p = scratch + g * member;
        mem[g].qt = p; mem[g].dot = p + d * tqp; mem[g].dqt = p + 2 * d * tqp;
        mem[g].lsev = p + 3 * d * tqp; mem[g].delta = mem[g].lsev + tqp;
        float *rows = mem[g].delta + tqp;
        mem[g].qrows = rows; mem[g].dorows = rows + tq * dp;
        mem[g].dka = rows + 2 * tq * dp; mem[g].dva = mem[g].dka + CK_BKB * dp;
    }

    // Groups of one: every slice on its own; otherwise slices bh ≡ h (mod heads) share the bias.
    const int64_t bias_heads = heads;
    if (group == 1) heads = 1;
    CK_HEAD_GROUP_LOOPS {
        int64_t bhs[CK_GROUP];
        const int n = head_group(bhs, c0, bh_end, heads, group);
        const int64_t h = bhs[0] % bias_heads;
        const float *h_bias = bias ? bias + h * tq * tk : NULL; // [Tq, Tk]
        float *h_dbias = dbias ? dbias + h * tq * tk : NULL;   // [Tq, Tk], accumulated
        for (int g = 0; g < n; g++) {
            backward_member *m = &mem[g];
            const float *qh = q + bhs[g] * tq * d, *oh = out + bhs[g] * tq * d, *doh = dout + bhs[g] * tq * d;
            const float *lh = lse + bhs[g] * tq;
            for (int64_t b = 0; b < nblk; b++) {
                const int64_t i0 = b * CK_BQ, nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
                pack_transposed_scaled(m->qt + b * d * CK_BQ, CK_BQ, qh + i0 * d, nq, d, scale);
                pack_transposed_scaled(m->dot + b * d * CK_BQ, CK_BQ, doh + i0 * d, nq, d, 1.0f);
            }
            memset(m->dqt, 0, (size_t)(d * tqp) * sizeof(float));
            for (int64_t i = 0; i < tqp; i++) {
                float acc = 0.0f;
                if (i < tq) acc = row_dot(doh + i * d, oh + i * d, d);
                m->delta[i] = acc;
                // A fully masked row (lse = −inf) had P = 0 and output 0: it passes no gradient.
                m->lsev[i] = i < tq && lh[i] != -INFINITY ? lh[i] : INFINITY;
            }
            if (dp != d) {
                pack_rows((float *)m->qrows, qh, tq, tq, d, dp);
                pack_rows((float *)m->dorows, doh, tq, tq, d, dp);
            } else {
                m->qrows = qh;
                m->dorows = doh;
            }
        }

        for (int64_t k0 = 0; k0 < tk; k0 += CK_BKB) {
            const int64_t nk = tk - k0 < CK_BKB ? tk - k0 : CK_BKB;
            for (int g = 0; g < n; g++) {
                memset(mem[g].dka, 0, (size_t)(nk * dp) * sizeof(float));
                memset(mem[g].dva, 0, (size_t)(nk * dp) * sizeof(float));
            }
            for (int64_t b = 0; b < nblk; b++) {
                const int64_t i0 = b * CK_BQ, nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
                const int nqv = (int)((nq + CK_VLEN - 1) / CK_VLEN);
                const int64_t BQ = nqv * CK_VLEN;
                if (h_bias) add_transposed(bt, BQ, h_bias + i0 * tk + k0, tk, nq, nk, 0);
                if (h_dbias) memset(dbt, 0, (size_t)(nk * BQ) * sizeof(float));
                for (int g = 0; g < n; g++) {
                    backward_member *m = &mem[g];
                    const float *kb = k + (bhs[g] * tk + k0) * d, *vb = v + (bhs[g] * tk + k0) * d;
                    const float *qt = m->qt + b * d * CK_BQ, *dot = m->dot + b * d * CK_BQ;
                    float *dqt = m->dqt + b * d * CK_BQ;
                    const float *qp = m->qrows + i0 * dp, *dop = m->dorows + i0 * dp;
                    const float *lv = m->lsev + i0, *dl = m->delta + i0;
                    const float *btp = h_bias ? bt : NULL;
                    float *dbtp = h_dbias ? dbt : NULL;
                    switch (nqv) {
#define CK_BWD_CASE(NQV)                                                                                       \
    case NQV:                                                                                                  \
        if (NQV <= CK_NQV)                                                                                     \
            backward_tile(NQV <= CK_NQV ? NQV : 1, nq, nk, d, dp, kb, vb, btp, dbtp, qt, dot, dqt, lv, dl, qp, \
                          dop, drop, (bhs[g] * tq + i0) * tk + k0, tk, st, dpt, mt, pmt, m->dka, m->dva);      \
        break;
                        CK_BWD_CASE(1) CK_BWD_CASE(2) CK_BWD_CASE(3) CK_BWD_CASE(4)
#undef CK_BWD_CASE
                    }
                }
                if (h_dbias) add_to_rows_transposed(h_dbias + i0 * tk + k0, tk, dbt, BQ, nq, nk);
            }
            for (int g = 0; g < n; g++)
                for (int64_t j = 0; j < nk; j++)
                    for (int64_t c = 0; c < d; c++) {
                        dk[(bhs[g] * tk + k0 + j) * d + c] = mem[g].dka[j * dp + c] * scale;
                        dv[(bhs[g] * tk + k0 + j) * d + c] = mem[g].dva[j * dp + c];
                    }
        }
        for (int g = 0; g < n; g++)
            for (int64_t b = 0; b < nblk; b++) {
                const int64_t i0 = b * CK_BQ, nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
                float scales[CK_BQ];
                for (int64_t i = 0; i < nq; i++) scales[i] = scale;
                unpack_transposed_scaled(dq + (bhs[g] * tq + i0) * d, mem[g].dqt + b * d * CK_BQ, CK_BQ, nq, d, scales);
            }
    }
    free(scratch);
}
