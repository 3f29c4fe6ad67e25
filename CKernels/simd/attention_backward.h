// Fused attention backward for one SIMD level (FlashAttention-2 style), after attention_forward.h.
// Forward: S = Q·Kᵀ·scale + bias, P = softmax_rows(S) = e^(S − lse), O = P·V. Its adjoint, per tile:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ∘ (dP − δ) with δ_i = Σ_j P_ij dP_ij = rowsum(dO ∘ O)_i,
//   dQ += dS·K·scale,  dK += dSᵀ·Q·scale,  dbias += dS.
// Key blocks outermost so the dK, dV accumulators of a block stay in cache; P is recomputed from lse.

int64_t CK_NAME(attention_backward_scratch)(int64_t tq, int64_t d) {
    int64_t dp = ck_round_up(d, CK_VLEN);
    // kt, vt [D][BK]; kp, dk, dv [BK][dp]; qp, dop [BQ][dp]; p, ds [BQ][BK]; dq [Tq][dp]; delta [Tq]
    return (int64_t)sizeof(float) *
           (2 * d * CK_BK + 3 * CK_BK * dp + 2 * CK_BQ * dp + 2 * CK_BQ * CK_BK + tq * dp + tq);
}

void CK_NAME(attention_backward)(float *dq, float *dk, float *dv, float *dbias, const float *q, const float *k,
                                 const float *v, const float *bias, const float *out, const float *dout,
                                 const float *lse, int64_t heads, int64_t tq, int64_t tk, int64_t d, float scale,
                                 int64_t bh_begin, int64_t bh_end) {
    const int64_t dp = ck_round_up(d, CK_VLEN), dvec = dp / CK_VLEN;
    float *scratch = aligned_alloc(64, (size_t)ck_round_up(CK_NAME(attention_backward_scratch)(tq, d), 64));
    float *kt = scratch;               // [D][BK]   Kᵀ of the key block (for S)
    float *vt = kt + d * CK_BK;        // [D][BK]   Vᵀ of the key block (for dP)
    float *kp = vt + d * CK_BK;        // [BK][dp]  K rows padded (for dQ)
    float *dka = kp + CK_BK * dp;      // [BK][dp]  dK accumulator (unscaled)
    float *dva = dka + CK_BK * dp;     // [BK][dp]  dV accumulator
    float *qp = dva + CK_BK * dp;      // [BQ][dp]  Q rows padded (for dK)
    float *dop = qp + CK_BQ * dp;      // [BQ][dp]  dO rows padded (for dV)
    float *p = dop + CK_BQ * dp;       // [BQ][BK]  probabilities
    float *ds = p + CK_BQ * CK_BK;     // [BQ][BK]  dP, then dS
    float *dqa = ds + CK_BQ * CK_BK;   // [Tq][dp]  dQ accumulator (unscaled) for the whole head
    float *delta = dqa + tq * dp;      // [Tq]

    for (int64_t bh = bh_begin; bh < bh_end; bh++) {
        const float *qh = q + bh * tq * d, *kh = k + bh * tk * d, *vh = v + bh * tk * d;
        const float *oh = out + bh * tq * d, *doh = dout + bh * tq * d, *lh = lse + bh * tq;
        const float *bh_bias = bias ? bias + (bh % heads) * tq * tk : NULL; // [Tq, Tk]
        float *bh_dbias = dbias ? dbias + (bh % heads) * tq * tk : NULL;   // [Tq, Tk], accumulated
        for (int64_t i = 0; i < tq; i++) {
            float acc = 0.0f;
            for (int64_t c = 0; c < d; c++) acc += doh[i * d + c] * oh[i * d + c];
            delta[i] = acc;
        }
        memset(dqa, 0, (size_t)(tq * dp) * sizeof(float));

        for (int64_t k0 = 0; k0 < tk; k0 += CK_BK) {
            const int64_t nk = tk - k0 < CK_BK ? tk - k0 : CK_BK;
            const int64_t nkv = (nk + CK_VLEN - 1) / CK_VLEN;
            pack_transposed(kt, CK_BK, kh + k0 * d, nk, nkv * CK_VLEN, d);
            pack_transposed(vt, CK_BK, vh + k0 * d, nk, nkv * CK_VLEN, d);
            pack_rows(kp, kh + k0 * d, nk, nk, d, dp);
            memset(dka, 0, (size_t)(nk * dp) * sizeof(float));
            memset(dva, 0, (size_t)(nk * dp) * sizeof(float));

            for (int64_t i0 = 0; i0 < tq; i0 += CK_BQ) {
                const int64_t nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
                pack_rows(qp, qh + i0 * d, nq, nq, d, dp);
                pack_rows(dop, doh + i0 * d, nq, nq, d, dp);

                tile_gemm(nq, nkv, d, qh + i0 * d, d, 1, kt, CK_BK, p, CK_BK, 0); // Q·Kᵀ
                for (int64_t i = 0; i < nq; i++) {
                    float *prow = p + i * CK_BK;
                    const float *brow = bh_bias ? bh_bias + (i0 + i) * tk + k0 : NULL;
                    // A fully masked row (lse = −inf) had P = 0 and output 0: it passes no gradient.
                    const float l = lh[i0 + i];
                    const float ref = l == -INFINITY ? INFINITY : l;
                    for (int64_t j = 0; j < nkv * CK_VLEN; j += CK_VLEN)
                        vf_store(prow + j, vf_exp(scaled_logits(prow, brow, j, nk, scale) - ref));
                }
                tile_gemm(nk, dvec, nq, p, 1, CK_BK, dop, dp, dva, dp, 1);           // dV += Pᵀ·dO
                tile_gemm(nq, nkv, d, doh + i0 * d, d, 1, vt, CK_BK, ds, CK_BK, 0);  // dP = dO·Vᵀ
                for (int64_t i = 0; i < nq; i++) {
                    float *dsrow = ds + i * CK_BK;
                    const vf di = vf_splat(delta[i0 + i]);
                    for (int64_t j = 0; j < nkv * CK_VLEN; j += CK_VLEN)
                        vf_store(dsrow + j, vf_load(p + i * CK_BK + j) * (vf_load(dsrow + j) - di));
                    if (bh_dbias) {
                        float *drow = bh_dbias + (i0 + i) * tk + k0;
                        int64_t j = 0;
                        for (; j + CK_VLEN <= nk; j += CK_VLEN) vf_store(drow + j, vf_load(drow + j) + vf_load(dsrow + j));
                        for (; j < nk; j++) drow[j] += dsrow[j];
                    }
                }
                tile_gemm(nq, dvec, nk, ds, CK_BK, 1, kp, dp, dqa + i0 * dp, dp, 1); // dQ += dS·K
                tile_gemm(nk, dvec, nq, ds, 1, CK_BK, qp, dp, dka, dp, 1);           // dK += dSᵀ·Q
            }
            for (int64_t j = 0; j < nk; j++)
                for (int64_t c = 0; c < d; c++) {
                    dk[(bh * tk + k0 + j) * d + c] = dka[j * dp + c] * scale;
                    dv[(bh * tk + k0 + j) * d + c] = dva[j * dp + c];
                }
        }
        for (int64_t i = 0; i < tq; i++)
            for (int64_t c = 0; c < d; c++) dq[(bh * tq + i) * d + c] = dqa[i * dp + c] * scale;
    }
    free(scratch);
}
