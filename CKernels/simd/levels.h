// Per-level entry points behind the public dispatchers (suffixes: portable, avx2, avx512).
#ifndef CK_SIMD_LEVELS_H
#define CK_SIMD_LEVELS_H
#include <stdint.h>
#include "../include/CKernels.h"

#define CK_DECLARE_LEVEL(sfx)                                                                                   \
    void ck_exp_##sfx(float *out, const float *in, int64_t n);                                                  \
    void ck_softmax_rows_##sfx(float *out, const float *in, int64_t rows, int64_t cols);                        \
    int64_t ck_attention_forward_scratch_##sfx(int64_t tq, int64_t tk, int64_t d);                                                      \
    int64_t ck_attention_backward_scratch_##sfx(int64_t tq, int64_t tk, int64_t d);                                         \
    void ck_attention_forward_##sfx(float *out, float *lse, const float *q, const float *k, const float *v,     \
                                    const float *bias, const ck_attention_dropout *dropout, int64_t heads,      \
                                    int64_t tq, int64_t tk, int64_t d, float scale, int64_t bh_begin,           \
                                    int64_t bh_end);                                                            \
    void ck_attention_backward_##sfx(float *dq, float *dk, float *dv, float *dbias, const float *q,             \
                                     const float *k, const float *v, const float *bias,                         \
                                     const ck_attention_dropout *dropout, const float *out, const float *dout,  \
                                     const float *lse, int64_t heads, int64_t tq, int64_t tk, int64_t d,        \
                                     float scale, int64_t bh_begin, int64_t bh_end);

CK_DECLARE_LEVEL(portable)
CK_DECLARE_LEVEL(avx2)
CK_DECLARE_LEVEL(avx512)

/// The level in use (see ck_set_simd_level).
int ck_active_simd_level(void);

#endif
