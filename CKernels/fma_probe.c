// A floating-point peak probe: independent chains of fused multiply-adds on the widest vectors the active SIMD
// level uses, so benchmarks can state each result as a share of what this core can do (the ceiling is measured,
// never assumed from a model number).
#include <stdint.h>
#include "include/CKernels.h"
#include "simd/levels.h"

// 12 chains cover an FMA latency of 4 cycles on 2 ports (8 in flight) with room to spare, within 16 registers.
#define CK_PROBE_CHAINS 12

#define CK_PROBE_BODY(vector_t, lanes)                                                                    \
    vector_t acc[CK_PROBE_CHAINS];                                                                      \
    for (int c = 0; c < CK_PROBE_CHAINS; c++) acc[c] = (vector_t){0} + (float)(c + 1) * 1e-3f;          \
    const vector_t m = (vector_t){0} + multiplier, a = (vector_t){0} + addend;                          \
    for (int64_t i = 0; i < iterations; i++) {                                                          \
        for (int c = 0; c < CK_PROBE_CHAINS; c++) acc[c] = acc[c] * m + a;                              \
    }                                                                                                   \
    float sum = 0;                                                                                      \
    for (int c = 0; c < CK_PROBE_CHAINS; c++) for (int l = 0; l < (lanes); l++) sum += acc[c][l];       \
    *flops = 2.0 * (double)(lanes) * CK_PROBE_CHAINS * (double)iterations;                             \
    return sum;

typedef float ck_probe_v4 __attribute__((vector_size(16)));
static float probe_portable(int64_t iterations, float multiplier, float addend, double *flops) {
    CK_PROBE_BODY(ck_probe_v4, 4)
}

#if defined(__x86_64__) && defined(__clang__)
#pragma clang fp contract(fast)
typedef float ck_probe_v8 __attribute__((vector_size(32)));
typedef float ck_probe_v16 __attribute__((vector_size(64)));
__attribute__((target("avx2,fma"))) static float probe_avx2(int64_t iterations, float multiplier, float addend, double *flops) {
    CK_PROBE_BODY(ck_probe_v8, 8)
}
__attribute__((target("avx512f,avx2,fma"))) static float probe_avx512(int64_t iterations, float multiplier, float addend,
                                                                      double *flops) {
    CK_PROBE_BODY(ck_probe_v16, 16)
}
#endif

float ck_fma_probe(int64_t iterations, float multiplier, float addend, double *flops) {
#if defined(__x86_64__) && defined(__clang__)
    switch (ck_active_simd_level()) {
    case 2: return probe_avx512(iterations, multiplier, addend, flops);
    case 1: return probe_avx2(iterations, multiplier, addend, flops);
    default: break;
    }
#endif
    return probe_portable(iterations, multiplier, addend, flops);
}
