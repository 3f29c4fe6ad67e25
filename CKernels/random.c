// Philox-4×32-10 uniform and Bernoulli draws, bit-identical to the engine's Swift reference (RandomGenerator.swift):
// element i uses counter start + i, so values do not depend on slicing. Written so clang vectorises the rounds
// (32×32→64-bit multiplies); the Swift loop ran scalar at ≈ 8 ns per element.
#include "CKernels.h"
#include "simd/philox.h"

// x86-64-v3 (AVX2, FMA, BMI2, …) is chosen by CPU features; "arch=haswell" was chosen only on an Intel Haswell
// model, so AMD and later Intel cores ran the SSE2 default (and called libm's floorf per element): exact GELU
// was 3.6× slower on this project's AMD EPYC machine.
#define CK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))

// The first two output words of Philox-4×32-10 for (counter, seed), as a 53-bit uniform in [0, 1).
static inline __attribute__((always_inline)) double philox_uniform53(uint64_t counter, uint64_t seed) {
    uint32_t c0, c1, c2, c3;
    philox_words(counter, seed, &c0, &c1, &c2, &c3);
    uint64_t bits = ((uint64_t)c0 << 21) ^ ((uint64_t)(c1 >> 11) & ((1ull << 53) - 1));
    return (double)bits / 9007199254740992.0;
}

CK_CLONES
void ck_random_uniform_f32(float *out, int64_t n, uint64_t start, uint64_t seed, double low, double high) {
#pragma clang loop vectorize(enable)
    for (int64_t i = 0; i < n; i++) out[i] = (float)(low + (high - low) * philox_uniform53(start + (uint64_t)i, seed));
}

CK_CLONES
void ck_random_bernoulli_f32(float *out, int64_t n, uint64_t start, uint64_t seed, double p) {
#pragma clang loop vectorize(enable)
    for (int64_t i = 0; i < n; i++) out[i] = philox_uniform53(start + (uint64_t)i, seed) < p ? 1.0f : 0.0f;
}
