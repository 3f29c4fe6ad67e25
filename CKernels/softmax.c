// Public vectorised exp and row softmax: route each call to the active SIMD level.
#include "CKernels.h"
#include "simd/levels.h"

void ck_exp_f32(float *out, const float *in, int64_t n) {
    switch (ck_active_simd_level()) {
    case 2: ck_exp_avx512(out, in, n); break;
    case 1: ck_exp_avx2(out, in, n); break;
    default: ck_exp_portable(out, in, n);
    }
}

void ck_softmax_rows_f32(float *out, const float *in, int64_t rows, int64_t cols) {
    switch (ck_active_simd_level()) {
    case 2: ck_softmax_rows_avx512(out, in, rows, cols); break;
    case 1: ck_softmax_rows_avx2(out, in, rows, cols); break;
    default: ck_softmax_rows_portable(out, in, rows, cols);
    }
}
