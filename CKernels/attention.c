// Public fused-attention entry points: route each call to the active SIMD level.
#include "CKernels.h"
#include "simd/levels.h"

void ck_attention_forward_f32(float *out, float *lse, const float *q, const float *k, const float *v,
                              const float *bias, const ck_attention_dropout *dropout, int64_t heads, int64_t tq,
                              int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end) {
    switch (ck_active_simd_level()) {
    case 2: ck_attention_forward_avx512(out, lse, q, k, v, bias, dropout, heads, tq, tk, d, scale, bh_begin, bh_end); break;
    case 1: ck_attention_forward_avx2(out, lse, q, k, v, bias, dropout, heads, tq, tk, d, scale, bh_begin, bh_end); break;
    default: ck_attention_forward_portable(out, lse, q, k, v, bias, dropout, heads, tq, tk, d, scale, bh_begin, bh_end);
    }
}

void ck_attention_backward_f32(float *dq, float *dk, float *dv, float *dbias, const float *q, const float *k,
                               const float *v, const float *bias, const ck_attention_dropout *dropout,
                               const float *out, const float *dout, const float *lse, int64_t heads, int64_t tq,
                               int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end) {
    switch (ck_active_simd_level()) {
    case 2:
        ck_attention_backward_avx512(dq, dk, dv, dbias, q, k, v, bias, dropout, out, dout, lse, heads, tq, tk, d, scale,
                                     bh_begin, bh_end);
        break;
    case 1:
        ck_attention_backward_avx2(dq, dk, dv, dbias, q, k, v, bias, dropout, out, dout, lse, heads, tq, tk, d, scale,
                                   bh_begin, bh_end);
        break;
    default:
        ck_attention_backward_portable(dq, dk, dv, dbias, q, k, v, bias, dropout, out, dout, lse, heads, tq, tk, d, scale,
                                       bh_begin, bh_end);
    }
}

int64_t ck_attention_scratch_bytes_f32(int64_t tq, int64_t tk, int64_t d, int backward) {
        switch (ck_active_simd_level()) {
    case 2: return backward ? ck_attention_backward_scratch_avx512(tq, tk, d) : ck_attention_forward_scratch_avx512(tq, tk, d);
    case 1: return backward ? ck_attention_backward_scratch_avx2(tq, tk, d) : ck_attention_forward_scratch_avx2(tq, tk, d);
    default: return backward ? ck_attention_backward_scratch_portable(tq, tk, d) : ck_attention_forward_scratch_portable(tq, tk, d);
    }
}
