// Fused attention forward for one SIMD level: O = softmax(Q·Kᵀ·scale + bias)·V, tiled, online softmax.
// Per (head, query block): for each key block, S = Q·Kᵀ (tile_gemm on a transposed K tile), then the
// running max m and running sum l are updated, O is rescaled by e^(m_old − m_new) and O += P·V. The
// Tq × Tk matrix never exists; only one BQ × BK tile does. lse = m + ln l is saved for the backward pass.
// Needs vector.h, tile_gemm.h and CK_NAME.
#include <math.h>
#include <stdlib.h>

#ifndef CK_BQ
#define CK_BQ 64 // query rows per block (O accumulator rows)
#endif
#ifndef CK_BK
#define CK_BK 64 // keys per block; a multiple of every CK_VLEN
#endif

/// Packs nk rows of x [nk, D] transposed into xt [D][ldt], zero-padding keys [nk, nkp).
static void pack_transposed(float *xt, int64_t ldt, const float *x, int64_t nk, int64_t nkp, int64_t d) {
    // 16 keys at a time: each xt row gets a contiguous 64-byte run. Column by column, the stores (ldt·4 bytes
    // apart, often a multiple of 1 KiB) would fall into a few L1 sets and miss every time. Scalar on purpose:
    // auto-vectorised, this becomes gather/scatter instructions, several times slower.
    for (int64_t j0 = 0; j0 < nk; j0 += 16) {
        const int64_t j1 = nk - j0 < 16 ? nk : j0 + 16;
        for (int64_t c = 0; c < d; c++) {
#pragma clang loop vectorize(disable)
            for (int64_t j = j0; j < j1; j++) xt[c * ldt + j] = x[j * d + c];
        }
    }
    for (int64_t c = 0; c < d; c++)
        for (int64_t j = nk; j < nkp; j++) xt[c * ldt + j] = 0.0f;
}

/// Copies n rows of x [n, D] into xp [rows][dp], zero-padding each row to dp and rows to `rows`.
static void pack_rows(float *xp, const float *x, int64_t n, int64_t rows, int64_t d, int64_t dp) {
    for (int64_t j = 0; j < n; j++) {
        memcpy(xp + j * dp, x + j * d, (size_t)d * sizeof(float));
        memset(xp + j * dp + d, 0, (size_t)(dp - d) * sizeof(float));
    }
    memset(xp + n * dp, 0, (size_t)((rows - n) * dp) * sizeof(float));
}

/// Loads logits s·scale + bias for lanes [j, j+VLEN) of a row with nk valid keys; lanes ≥ nk get −inf.
CK_INLINE vf scaled_logits(const float *srow, const float *brow, int64_t j, int64_t nk, float scale) {
    vf x = vf_load(srow + j) * scale;
    if (j + CK_VLEN <= nk) {
        if (brow) x += vf_load(brow + j);
        return x;
    }
    vf b = brow ? vf_load_partial(brow + j, nk - j, 0.0f) : vf_splat(0.0f);
    vi valid = (vi)vf_splat(0.0f);
    for (int64_t i = 0; i < CK_VLEN; i++) valid[i] = j + i < nk ? -1 : 0;
    return vf_select(valid, x + b, vf_splat(-INFINITY));
}

int64_t CK_NAME(attention_forward_scratch)(int64_t tk, int64_t d) {
    int64_t dp = ck_round_up(d, CK_VLEN), tkp = ck_round_up(tk, CK_VLEN);
    // kt [D][tkp], vp [tkp][dp], s [BQ][BK], o [BQ][dp], lsum [BQ][VLEN], m [BQ]
    return (int64_t)sizeof(float) * (d * tkp + tkp * dp + CK_BQ * CK_BK + CK_BQ * dp + CK_BQ * CK_VLEN + CK_BQ);
}

void CK_NAME(attention_forward)(float *out, float *lse, const float *q, const float *k, const float *v,
                                const float *bias, int64_t heads, int64_t tq, int64_t tk, int64_t d,
                                float scale, int64_t bh_begin, int64_t bh_end) {
    const int64_t dp = ck_round_up(d, CK_VLEN), dvec = dp / CK_VLEN, tkp = ck_round_up(tk, CK_VLEN);
    float *scratch = aligned_alloc(64, (size_t)ck_round_up(CK_NAME(attention_forward_scratch)(tk, d), 64));
    float *kt = scratch;                 // [D][tkp]  keys of the head, transposed (packed once per head)
    float *vp = kt + d * tkp;            // [tkp][dp] values of the head, rows padded
    float *s = vp + tkp * dp;            // [BQ][BK]  logits, then probabilities
    float *o = s + CK_BQ * CK_BK;        // [BQ][dp]  unnormalised output rows
    float *lsum = o + CK_BQ * dp;        // [BQ][VLEN] running sums, kept as vectors until the end
    float *m = lsum + CK_BQ * CK_VLEN;   // [BQ]      running max

    for (int64_t bh = bh_begin; bh < bh_end; bh++) {
        const float *qh = q + bh * tq * d, *kh = k + bh * tk * d, *vh = v + bh * tk * d; // [T, D]
        const float *bh_bias = bias ? bias + (bh % heads) * tq * tk : NULL;               // [Tq, Tk]
        pack_transposed(kt, tkp, kh, tk, tkp, d);
        pack_rows(vp, vh, tk, tk, d, dp);
        for (int64_t i0 = 0; i0 < tq; i0 += CK_BQ) {
            const int64_t nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
            memset(o, 0, (size_t)(nq * dp) * sizeof(float));
            memset(lsum, 0, (size_t)(nq * CK_VLEN) * sizeof(float));
            for (int64_t i = 0; i < nq; i++) m[i] = -INFINITY;

            for (int64_t k0 = 0; k0 < tk; k0 += CK_BK) {
                const int64_t nk = tk - k0 < CK_BK ? tk - k0 : CK_BK;
                const int64_t nkv = (nk + CK_VLEN - 1) / CK_VLEN;
                tile_gemm(nq, nkv, d, qh + i0 * d, d, 1, kt + k0, tkp, s, CK_BK, 0); // s = Q·Kᵀ

                for (int64_t i = 0; i < nq; i++) {
                    float *srow = s + i * CK_BK;
                    const float *brow = bh_bias ? bh_bias + (i0 + i) * tk + k0 : NULL;
                    vf vmax = vf_splat(-INFINITY);
                    for (int64_t j = 0; j < nkv * CK_VLEN; j += CK_VLEN) {
                        vf x = scaled_logits(srow, brow, j, nk, scale);
                        vf_store(srow + j, x);
                        vmax = vf_max(vmax, x);
                    }
                    const float mnew = fmaxf(m[i], vf_hmax(vmax));
                    // A row whose logits are all −inf so far (fully masked) uses 0 as reference: p = 0, no NaN.
                    const float ref = mnew == -INFINITY ? 0.0f : mnew;
                    const float alpha = vf_exp(vf_splat(m[i] - ref))[0]; // inline: a libm call would also cost a vzeroupper
                    vf sum = vf_splat(0.0f);
                    for (int64_t j = 0; j < nkv * CK_VLEN; j += CK_VLEN) {
                        vf p = vf_exp(vf_load(srow + j) - ref);
                        vf_store(srow + j, p);
                        sum += p;
                    }
                    vf_store(lsum + i * CK_VLEN, vf_load(lsum + i * CK_VLEN) * alpha + sum);
                    if (alpha != 1.0f)
                        for (int64_t c = 0; c < dp; c += CK_VLEN) vf_store(o + i * dp + c, vf_load(o + i * dp + c) * alpha);
                    m[i] = mnew;
                }
                tile_gemm(nq, dvec, nk, s, CK_BK, 1, vp + k0 * dp, dp, o, dp, 1); // o += P·V
            }

            for (int64_t i = 0; i < nq; i++) {
                const float l = vf_hsum(vf_load(lsum + i * CK_VLEN));
                const float inv = l > 0.0f ? 1.0f / l : 0.0f;
                float *orow = out + (bh * tq + i0 + i) * d;
                for (int64_t c = 0; c < d; c++) orow[c] = o[i * dp + c] * inv;
                lse[bh * tq + i0 + i] = l > 0.0f ? m[i] + logf(l) : -INFINITY;
            }
        }
    }
    free(scratch);
}
