// Fused inverted dropout, y = x · keep(i) / (1 − p), ReLU forward/backward, and ReLU then dropout in one pass
// (the transformer feed-forward's `dropout(relu(x))`, whose backward then needs only its output). Each body is
// compiled three times (portable, AVX2, AVX-512) and chosen by the process's SIMD level, so tests can force
// every path; the results are bit-identical across paths (integer mask, one rounding per element).
//
// The dropout mask is never stored: backward regenerates it from (seed, counter). Layout, shared with the Swift
// reference in Dropout.swift: elements come in blocks of 64; block b draws Philox-4×32-10 at counters
// start + 16·b + l for lanes l = 0…15, and element 64·b + 16·w + l is kept when word w of lane l is below
// `threshold` (keep probability · 2³²). One Philox call serves four elements and the 16 lanes vectorise, where
// the former mask (one call per element, then two multiply passes) took 10 % of a Paint Transformer step.
#include "CKernels.h"
#include "simd/instantiate.h"
#include "simd/philox.h"

/// Dropout of x, or of relu(x) when `relu` (then the same bits as the two kernels one after the other).
CK_INLINE void dropout_body(float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                            uint64_t start, uint64_t seed, uint32_t threshold, float scale, int relu) {
    for (int64_t b = first_block; b < first_block + block_count; b++) {
        uint32_t words[64];
        philox_block_words(words, b, start, seed);
        int64_t base = 64 * b;
        int64_t m = n - base < 64 ? n - base : 64;
        // In place (out == in) is safe: element i reads only index i before writing it.
#pragma clang loop vectorize(assume_safety)
        for (int64_t r = 0; r < m; r++) {
            float x = relu ? (in[base + r] > 0.0f ? in[base + r] : 0.0f) : in[base + r];
            out[base + r] = words[r] < threshold ? x * scale : 0.0f;
        }
    }
}

CK_INLINE void relu_forward_body(float *out, const float *in, int64_t n) {
#pragma clang loop vectorize(assume_safety)
    for (int64_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

CK_INLINE void relu_backward_body(float *dx, const float *y, const float *g, float scale, int64_t n) {
#pragma clang loop vectorize(assume_safety)
    for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? g[i] * scale : 0.0f;
}

CK_INSTANTIATE(dropout, (float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                         uint64_t start, uint64_t seed, uint32_t threshold, float scale, int relu),
               (out, in, n, first_block, block_count, start, seed, threshold, scale, relu))
CK_INSTANTIATE(relu_forward, (float *out, const float *in, int64_t n), (out, in, n))
CK_INSTANTIATE(relu_backward, (float *dx, const float *y, const float *g, float scale, int64_t n), (dx, y, g, scale, n))

void ck_dropout_f32(float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                    uint64_t start, uint64_t seed, uint32_t threshold, float scale) {
    CK_LEVELS(dropout, (out, in, n, first_block, block_count, start, seed, threshold, scale, 0))
}

void ck_relu_dropout_f32(float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                         uint64_t start, uint64_t seed, uint32_t threshold, float scale) {
    CK_LEVELS(dropout, (out, in, n, first_block, block_count, start, seed, threshold, scale, 1))
}

void ck_relu_forward_f32(float *out, const float *in, int64_t n) { CK_LEVELS(relu_forward, (out, in, n)) }

void ck_relu_backward_f32(float *dx, const float *y, const float *g, float scale, int64_t n) {
    CK_LEVELS(relu_backward, (dx, y, g, scale, n))
}
