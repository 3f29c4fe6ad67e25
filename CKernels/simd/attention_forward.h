// Fused attention forward for one SIMD level: O = softmax(Q·Kᵀ·scale + bias)·V, tiled, online softmax.
//
// Layout: queries run along the vector lanes. A block of BQ = NQV·VLEN queries is packed once as
// Qᵀ·scale [D][BQ]; for each block of keys the transposed scores Sᵀ = K·Qᵀ [BK][BQ] come from the tile kernel
// broadcasting K straight from the caller's rows (no K packing), the softmax statistics (running max m and
// sum l per query) are plain vectors updated with vertical max/add (no horizontal reductions), P = e^(S − m)
// is computed in place on the whole tile, and Oᵀ [D][BQ] = Oᵀ·α + Vᵀ·Pᵀ is one more tile product whose
// accumulators are rescaled as they are loaded (again broadcasting V from the caller's rows). The Tq × Tk
// matrix never exists; lse = m + ln l is saved for the backward pass. Needs vector.h, tile_gemm.h, CK_NAME.
#include <math.h>
#include <stdlib.h>
#include "philox.h"

#ifndef CK_BK
#define CK_BK 128 // keys per block (rows of the Sᵀ tile)
#endif
#define CK_BQ (CK_NQV * CK_VLEN) // queries per block at most (NQV ≤ CK_NQV ≤ 4 vectors)

/// Copies n rows of x [n, D] into xp [rows][dp], zero-padding each row to dp and rows to `rows`.
static void pack_rows(float *xp, const float *x, int64_t n, int64_t rows, int64_t d, int64_t dp) {
    for (int64_t j = 0; j < n; j++) {
        memcpy(xp + j * dp, x + j * d, (size_t)d * sizeof(float));
        memset(xp + j * dp + d, 0, (size_t)(dp - d) * sizeof(float));
    }
    memset(xp + n * dp, 0, (size_t)((rows - n) * dp) * sizeof(float));
}

/// xt[c][i] = x[i][c]·mul for i < n, 0 for n ≤ i < ldt: rows [n, D] transposed into [D][ldt].
static void pack_transposed_scaled(float *xt, int64_t ldt, const float *x, int64_t n, int64_t d, float mul) {
    int64_t i0 = 0;
    // Full VLEN × VLEN blocks through registers; the rest scalar.
    for (; i0 + CK_VLEN <= n; i0 += CK_VLEN) {
        int64_t c0 = 0;
        for (; c0 + CK_VLEN <= d; c0 += CK_VLEN) {
            vf r[CK_VLEN];
            for (int i = 0; i < CK_VLEN; i++) r[i] = vf_load(x + (i0 + i) * d + c0);
            vf_transpose(r);
            for (int c = 0; c < CK_VLEN; c++) vf_store(xt + (c0 + c) * ldt + i0, r[c] * mul);
        }
        for (; c0 < d; c0++)
            for (int64_t i = i0; i < i0 + CK_VLEN; i++) xt[c0 * ldt + i] = x[i * d + c0] * mul;
    }
    for (int64_t c = 0; c < d; c++) {
        for (int64_t i = i0; i < n; i++) xt[c * ldt + i] = x[i * d + c] * mul;
        for (int64_t i = n; i < ldt; i++) xt[c * ldt + i] = 0.0f;
    }
}

/// x[i][c] = xt[c][i]·mul[i] for i < n, c < d: the inverse of pack_transposed_scaled, a [D][ldt] tile back to
/// rows [n, D] with one factor per row. Same products as an element loop, so results do not depend on the path.
static void unpack_transposed_scaled(float *x, const float *xt, int64_t ldt, int64_t n, int64_t d, const float *mul) {
    int64_t i0 = 0;
    for (; i0 + CK_VLEN <= n; i0 += CK_VLEN) {
        int64_t c0 = 0;
        for (; c0 + CK_VLEN <= d; c0 += CK_VLEN) {
            vf r[CK_VLEN];
            for (int c = 0; c < CK_VLEN; c++) r[c] = vf_load(xt + (c0 + c) * ldt + i0);
            vf_transpose(r);
            for (int i = 0; i < CK_VLEN; i++) vf_store(x + (i0 + i) * d + c0, r[i] * vf_splat(mul[i0 + i]));
        }
        for (; c0 < d; c0++)
            for (int64_t i = i0; i < i0 + CK_VLEN; i++) x[i * d + c0] = xt[c0 * ldt + i] * mul[i];
    }
    for (int64_t i = i0; i < n; i++)
        for (int64_t c = 0; c < d; c++) x[i * d + c] = xt[c * ldt + i] * mul[i];
}

/// st[j][i] (+)= b[i][j] (ld of b: ldb) for i < nq, j < nk: a bias block transposed (accumulate = 0: copied,
/// and lanes [nq, VLEN-rounded nq) of the copied rows are zeroed).
static void add_transposed(float *st, int64_t ldst, const float *b, int64_t ldb, int64_t nq, int64_t nk,
                           int accumulate) {
    int64_t i0 = 0;
    for (; i0 + CK_VLEN <= nq; i0 += CK_VLEN) {
        int64_t j0 = 0;
        for (; j0 + CK_VLEN <= nk; j0 += CK_VLEN) {
            vf r[CK_VLEN];
            for (int i = 0; i < CK_VLEN; i++) r[i] = vf_load(b + (i0 + i) * ldb + j0);
            vf_transpose(r);
            for (int j = 0; j < CK_VLEN; j++) {
                float *x = st + (j0 + j) * ldst + i0;
                vf_store(x, accumulate ? vf_load(x) + r[j] : r[j]);
            }
        }
        for (int64_t j = j0; j < nk; j++)
            for (int64_t i = i0; i < i0 + CK_VLEN; i++) st[j * ldst + i] = (accumulate ? st[j * ldst + i] : 0.0f) + b[i * ldb + j];
    }
    if (i0 < nq)
        for (int64_t j = 0; j < nk; j++)
            for (int64_t i = i0; i < ck_round_up(nq, CK_VLEN); i++)
                st[j * ldst + i] = (accumulate ? st[j * ldst + i] : 0.0f) + (i < nq ? b[i * ldb + j] : 0.0f);
}

/// Dropout multipliers of a transposed tile mt [nk][ld] for query rows i < nq (lanes) and keys j < nk: scale
/// where flat element e_row0 + i·tk + j of the [BH, Tq, Tk] probabilities is kept (dropout.c's layout), else 0;
/// lanes nq ≤ i < lanes are zeroed.
static void dropout_mask_tile(float *mt, int64_t ld, int64_t nq, int64_t lanes, int64_t nk, int64_t e_row0,
                              int64_t tk, const ck_attention_dropout *dr) {
    for (int64_t i = 0; i < nq; i++) {
        const int64_t row = e_row0 + i * tk, end = row + nk;
        for (int64_t e = row; e < end;) {
            const int64_t b = e / 64, stop = 64 * (b + 1) < end ? 64 * (b + 1) : end;
            uint32_t words[64];
            philox_block_words(words, b, dr->start, dr->seed);
            for (; e < stop; e++) mt[(e - row) * ld + i] = words[e - 64 * b] < dr->threshold ? dr->scale : 0.0f;
        }
    }
    for (int64_t j = 0; j < nk; j++)
        for (int64_t i = nq; i < lanes; i++) mt[j * ld + i] = 0.0f;
}

/// Batch elements sharing a head (and so the bias) are processed together in groups of up to CK_GROUP, so
/// each bias tile is read and transposed once per group rather than once per batch element. Only worth it
/// when a head's bias does not stay cached (≥ CK_GROUP_MIN_BIAS elements, 1 MB): with small biases the
/// members' extra state costs more than it saves.
#ifndef CK_GROUP
#define CK_GROUP 8
#endif
#define CK_GROUP_MIN_BIAS (256 * 1024)

/// Forward group size with a bias: large biases only; members' Qᵀ and Oᵀ blocks within ~256 KB.
static int forward_group(int64_t tq, int64_t tk, int64_t d) {
    const int64_t fit = (64 * 1024) / (2 * d * CK_BQ);
    return tq * tk < CK_GROUP_MIN_BIAS || fit < 1 ? 1 : fit > CK_GROUP ? CK_GROUP : (int)fit;
}

int64_t CK_NAME(attention_forward_scratch)(int64_t tq, int64_t tk, int64_t d) {
    // per group member: qt, ot [D][BQ], m, l [BQ]; shared: st, bt, mt [BK][BQ], alpha [BQ]
    return (int64_t)sizeof(float) *
           (forward_group(tq, tk, d) * (2 * d * CK_BQ + 2 * CK_BQ) + 3 * CK_BK * CK_BQ + CK_BQ);
}

/// One block of nq ≤ NQV·VLEN queries of n batch elements of one head (slices bhs[g]), over all keys.
CK_INLINE void forward_query_block(int NQV, int n, const int64_t *bhs, int64_t i0, float *out, float *lse,
                                   const float *q, const float *k, const float *v, const float *bblk,
                                   const ck_attention_dropout *drop, int64_t nq, int64_t tq, int64_t tk, int64_t d,
                                   float scale, float *qt, float *ot, float *ml, float *st, float *bt, float *mt,
                                   float *alpha) {
    const int64_t BQ = NQV * CK_VLEN;
    for (int g = 0; g < n; g++) {
        pack_transposed_scaled(qt + g * d * CK_BQ, BQ, q + (bhs[g] * tq + i0) * d, nq, d, scale);
        for (int v = 0; v < NQV; v++) {
            vf_store(ml + g * 2 * CK_BQ + v * CK_VLEN, vf_splat(-INFINITY));
            vf_store(ml + g * 2 * CK_BQ + CK_BQ + v * CK_VLEN, vf_splat(0.0f));
        }
    }

    for (int64_t k0 = 0; k0 < tk; k0 += CK_BK) {
        const int64_t nk = tk - k0 < CK_BK ? tk - k0 : CK_BK;
        if (bblk) add_transposed(bt, BQ, bblk + k0, tk, nq, nk, 0);
        for (int g = 0; g < n; g++) {
            const float *kb = k + (bhs[g] * tk + k0) * d, *vb = v + (bhs[g] * tk + k0) * d;
            float *mg = ml + g * 2 * CK_BQ, *lg = mg + CK_BQ, *otg = ot + g * d * CK_BQ;
            tile_panel(NQV, nk, d, kb, d, 1, qt + g * d * CK_BQ, BQ, st, BQ, CK_ZERO, NULL); // Sᵀ = K·Qᵀ·scale

            vf m[4], mx[4], ref[4], sum[4];
            for (int v = 0; v < NQV; v++) mx[v] = m[v] = vf_load(mg + v * CK_VLEN);
            if (bblk) {
                for (int64_t j = 0; j < nk; j++)
                    for (int v = 0; v < NQV; v++) {
                        vf x = vf_load(st + j * BQ + v * CK_VLEN) + vf_load(bt + j * BQ + v * CK_VLEN);
                        vf_store(st + j * BQ + v * CK_VLEN, x);
                        mx[v] = vf_max(mx[v], x);
                    }
            } else {
                for (int64_t j = 0; j < nk; j++)
                    for (int v = 0; v < NQV; v++) mx[v] = vf_max(mx[v], vf_load(st + j * BQ + v * CK_VLEN));
            }
            for (int v = 0; v < NQV; v++) {
                // A query whose logits are all −inf so far (fully masked) uses 0 as reference: p = 0, no NaN.
                ref[v] = vf_select(mx[v] == vf_splat(-INFINITY), vf_splat(0.0f), mx[v]);
                vf a = vf_exp_nonpos(m[v] - ref[v]);
                vf_store(alpha + v * CK_VLEN, a);
                sum[v] = vf_load(lg + v * CK_VLEN) * a;
                vf_store(mg + v * CK_VLEN, mx[v]);
            }
            for (int64_t j = 0; j < nk; j++)
                for (int v = 0; v < NQV; v++) {
                    vf p = vf_exp_nonpos(vf_load(st + j * BQ + v * CK_VLEN) - ref[v]);
                    vf_store(st + j * BQ + v * CK_VLEN, p);
                    sum[v] += p;
                }
            for (int v = 0; v < NQV; v++) vf_store(lg + v * CK_VLEN, sum[v]);
            // Dropout after the normaliser's sum: Pᵀ ∘ mask·scale feeds the product with V only.
            if (drop) {
                dropout_mask_tile(mt, BQ, nq, BQ, nk, (bhs[g] * tq + i0) * tk + k0, tk, drop);
                for (int64_t j = 0; j < nk; j++)
                    for (int v = 0; v < NQV; v++)
                        vf_store(st + j * BQ + v * CK_VLEN, vf_load(st + j * BQ + v * CK_VLEN) * vf_load(mt + j * BQ + v * CK_VLEN));
            }
            // Oᵀ = Oᵀ·α + Vᵀ·Pᵀ: element (c, j) of Vᵀ is v[j·D + c]
            if (k0 == 0) tile_panel(NQV, d, nk, vb, 1, d, st, BQ, otg, BQ, CK_ZERO, NULL);
            else tile_panel(NQV, d, nk, vb, 1, d, st, BQ, otg, BQ, CK_RESCALE, alpha);
        }
    }

    for (int g = 0; g < n; g++) {
        const float *mg = ml + g * 2 * CK_BQ, *lg = mg + CK_BQ, *otg = ot + g * d * CK_BQ;
        float *o = out + (bhs[g] * tq + i0) * d, *ls = lse + bhs[g] * tq + i0;
        float inv[CK_BQ];
        for (int64_t i = 0; i < nq; i++) {
            inv[i] = lg[i] > 0.0f ? 1.0f / lg[i] : 0.0f;
            ls[i] = lg[i] > 0.0f ? mg[i] + logf(lg[i]) : -INFINITY;
        }
        unpack_transposed_scaled(o, otg, BQ, nq, d, inv);
    }
}

/// Fills bhs with the group starting at slice c0: c0, c0 + heads, … below bh_end, at most `group`.
static int head_group(int64_t *bhs, int64_t c0, int64_t bh_end, int64_t heads, int group) {
    int n = 0;
    for (int64_t bh = c0; bh < bh_end && n < group; bh += heads) bhs[n++] = bh;
    return n;
}
#define CK_HEAD_GROUP_LOOPS                                                                                    \
    for (int64_t h0 = bh_begin; h0 < bh_end && h0 < bh_begin + heads; h0++)                                    \
        for (int64_t c0 = h0; c0 < bh_end; c0 += group * heads)

void CK_NAME(attention_forward)(float *out, float *lse, const float *q, const float *k, const float *v,
                                const float *bias, const ck_attention_dropout *drop, int64_t heads, int64_t tq,
                                int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end) {
    const int group = bias ? forward_group(tq, tk, d) : 1;
    float *scratch = aligned_alloc(64, (size_t)ck_round_up(CK_NAME(attention_forward_scratch)(tq, tk, d), 64));
    float *qt = scratch;                      // [G][D][BQ]  Qᵀ·scale of the query block
    float *ot = qt + group * d * CK_BQ;       // [G][D][BQ]  unnormalised Oᵀ
    float *ml = ot + group * d * CK_BQ;       // [G][2][BQ]  running max m and sum l
    float *st = ml + group * 2 * CK_BQ;       // [BK][BQ]    Sᵀ, then Pᵀ
    float *bt = st + CK_BK * CK_BQ;           // [BK][BQ]    bias block, transposed
    float *mt = bt + CK_BK * CK_BQ;           // [BK][BQ]    dropout multipliers, transposed
    float *alpha = mt + CK_BK * CK_BQ;        // [BQ]        rescale factors of the block

    // Groups of one: every slice on its own; otherwise slices bh ≡ h (mod heads) share the bias.
    const int64_t bias_heads = heads;
    if (group == 1) heads = 1;
    CK_HEAD_GROUP_LOOPS {
        int64_t bhs[CK_GROUP];
        const int n = head_group(bhs, c0, bh_end, heads, group);
        const float *h_bias = bias ? bias + (bhs[0] % bias_heads) * tq * tk : NULL; // [Tq, Tk]
        for (int64_t i0 = 0; i0 < tq; i0 += CK_BQ) {
            const int64_t nq = tq - i0 < CK_BQ ? tq - i0 : CK_BQ;
            const float *bblk = h_bias ? h_bias + i0 * tk : NULL;
            switch ((nq + CK_VLEN - 1) / CK_VLEN) {
#define CK_FWD_CASE(NQV)                                                                                       \
    case NQV:                                                                                                  \
        if (NQV <= CK_NQV)                                                                                     \
            forward_query_block(NQV <= CK_NQV ? NQV : 1, n, bhs, i0, out, lse, q, k, v, bblk, drop, nq, tq, tk,\
                                d, scale, qt, ot, ml, st, bt, mt, alpha);                                      \
        break;
                CK_FWD_CASE(1) CK_FWD_CASE(2) CK_FWD_CASE(3) CK_FWD_CASE(4)
#undef CK_FWD_CASE
            }
        }
    }
    free(scratch);
}
