// Vector abstraction for one SIMD level, written with Clang/GCC generic vectors so that one kernel source
// serves every level. The including translation unit defines CK_VLEN (floats per vector) and CK_HAS_FMA,
// and wraps the include in a `target` pragma; nothing here may depend on a global -march.
#ifndef CK_SIMD_VECTOR_H
#define CK_SIMD_VECTOR_H
#include <stdint.h>
#include <string.h>

typedef float vf __attribute__((vector_size(CK_VLEN * 4)));
typedef int32_t vi __attribute__((vector_size(CK_VLEN * 4)));

#define CK_INLINE static inline __attribute__((always_inline))

// memcpy compiles to one unaligned vector move: callers never need aligned addresses.
CK_INLINE vf vf_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
CK_INLINE void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
// A lane loop, not `(vf){} + x`: that form computes 0 + x (not an identity for −0) before broadcasting.
CK_INLINE vf vf_splat(float x) {
    vf v;
    for (int i = 0; i < CK_VLEN; i++) v[i] = x;
    return v;
}

/// Loads n < CK_VLEN floats; the other lanes get `fill` (tails of rows that are not a multiple of CK_VLEN).
CK_INLINE vf vf_load_partial(const float *p, int64_t n, float fill) {
    float t[CK_VLEN];
    for (int64_t i = 0; i < CK_VLEN; i++) t[i] = i < n ? p[i] : fill;
    return vf_load(t);
}
CK_INLINE void vf_store_partial(float *p, vf v, int64_t n) {
    float t[CK_VLEN];
    vf_store(t, v);
    for (int64_t i = 0; i < n; i++) p[i] = t[i];
}

// Without FMA hardware a fused multiply-add would be a libm call per lane: use mul + add instead.
CK_INLINE vf vf_fma(vf a, vf b, vf c) {
#if CK_HAS_FMA
    return __builtin_elementwise_fma(a, b, c);
#else
    return a * b + c;
#endif
}
CK_INLINE vf vf_select(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
// Plain compare-and-select (not IEEE maxNum): cheaper, and NaN handling is done where it matters.
CK_INLINE vf vf_max(vf a, vf b) { return vf_select(a > b, a, b); }
CK_INLINE vf vf_min(vf a, vf b) { return vf_select(a < b, a, b); }

CK_INLINE float vf_hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < CK_VLEN; i++) m = v[i] > m ? v[i] : m;
    return m;
}
CK_INLINE float vf_hsum(vf v) {
    // Pairwise halving: a fixed order, so results do not depend on the caller.
    float t[CK_VLEN];
    vf_store(t, v);
    for (int w = CK_VLEN / 2; w > 0; w /= 2)
        for (int i = 0; i < w; i++) t[i] += t[i + w];
    return t[0];
}

/// e^x per lane, max error ~2 ulp over the float range. x = n·ln2 + r with |r| ≤ ln2/2, e^r from a degree-7
/// polynomial (Cephes expf coefficients), 2^n built in the exponent field as two factors so n may reach
/// -150 … 128: results underflow gradually to 0 (so e^-inf = 0) and overflow to +inf; NaN propagates.
CK_INLINE vf vf_exp(vf x) {
    const float magic = 12582912.0f; // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
    vf xc = vf_min(vf_max(x, vf_splat(-104.0f)), vf_splat(89.0f));
    vf t = vf_fma(xc, vf_splat(1.44269504088896341f), vf_splat(magic));
    vf n = t - magic;
    vf r = vf_fma(n, vf_splat(-0.693359375f), xc); // ln2 split in two so n·ln2_hi is exact
    r = vf_fma(n, vf_splat(2.12194440e-4f), r);
    vf p = vf_splat(1.9875691500e-4f);
    p = vf_fma(p, r, vf_splat(1.3981999507e-3f));
    p = vf_fma(p, r, vf_splat(8.3334519073e-3f));
    p = vf_fma(p, r, vf_splat(4.1665795894e-2f));
    p = vf_fma(p, r, vf_splat(1.6666665459e-1f));
    p = vf_fma(p, r, vf_splat(5.0000001201e-1f));
    vf y = vf_fma(p, r * r, r) + 1.0f;
    vi ni = (vi)t - (vi)vf_splat(magic);
    vi half = ni >> 1;
    vf s1 = (vf)((half + 127) << 23);
    vf s2 = (vf)((ni - half + 127) << 23);
    y = y * s1 * s2;
    return vf_select(x != x, x, y);
}


/// e^x for x ≤ 87 (attention only ever exponentiates x − max ≤ 0): the polynomial of vf_exp with a single
/// 2^n factor and no clamping; results below e^-87 (≈ 1.6e-38) flush to 0, so e^-inf = 0; NaN propagates.
/// About two thirds of vf_exp's instructions.
CK_INLINE vf vf_exp_nonpos(vf x) {
    const float magic = 12582912.0f; // 1.5·2^23
    vf t = vf_fma(x, vf_splat(1.44269504088896341f), vf_splat(magic));
    vf n = t - magic;
    vf r = vf_fma(n, vf_splat(-0.693359375f), x);
    r = vf_fma(n, vf_splat(2.12194440e-4f), r);
    // Horner to the end (1 + r·(1 + r·(½ + …))): one operation fewer than r + r²·p + 1.
    vf y = vf_splat(1.9875691500e-4f);
    y = vf_fma(y, r, vf_splat(1.3981999507e-3f));
    y = vf_fma(y, r, vf_splat(8.3334519073e-3f));
    y = vf_fma(y, r, vf_splat(4.1665795894e-2f));
    y = vf_fma(y, r, vf_splat(1.6666665459e-1f));
    y = vf_fma(y, r, vf_splat(5.0000001201e-1f));
    y = vf_fma(y, r, vf_splat(1.0f));
    y = vf_fma(y, r, vf_splat(1.0f));
    // The low bits of t hold n (t = magic + n exactly), and magic's bits vanish when shifted by 23.
    vf s = (vf)(((vi)t << 23) + (vi)vf_splat(1.0f));
    y = y * s;
    return vf_select(x < vf_splat(-87.0f), vf_splat(0.0f), y);
}

// In-register transpose of a CK_VLEN × CK_VLEN block: stage w swaps bit w of the row and column indices,
// one two-source shuffle per output row and stage.
#if CK_VLEN == 4
#define CK_TLO_1 0, 4, 2, 6
#define CK_THI_1 1, 5, 3, 7
#define CK_TLO_2 0, 1, 4, 5
#define CK_THI_2 2, 3, 6, 7
#elif CK_VLEN == 8
#define CK_TLO_1 0, 8, 2, 10, 4, 12, 6, 14
#define CK_THI_1 1, 9, 3, 11, 5, 13, 7, 15
#define CK_TLO_2 0, 1, 8, 9, 4, 5, 12, 13
#define CK_THI_2 2, 3, 10, 11, 6, 7, 14, 15
#define CK_TLO_4 0, 1, 2, 3, 8, 9, 10, 11
#define CK_THI_4 4, 5, 6, 7, 12, 13, 14, 15
#elif CK_VLEN == 16
#define CK_TLO_1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define CK_THI_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define CK_TLO_2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define CK_THI_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define CK_TLO_4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define CK_THI_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define CK_TLO_8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define CK_THI_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#endif
#define CK_TSTAGE(W)                                                                                           \
    for (int i = 0; i < CK_VLEN; i++)                                                                          \
        if (!(i & W)) {                                                                                        \
            vf lo = __builtin_shufflevector(r[i], r[i | W], CK_TLO_##W);                                       \
            vf hi = __builtin_shufflevector(r[i], r[i | W], CK_THI_##W);                                       \
            r[i] = lo;                                                                                         \
            r[i | W] = hi;                                                                                     \
        }
CK_INLINE void vf_transpose(vf r[CK_VLEN]) {
    CK_TSTAGE(1)
    CK_TSTAGE(2)
#if CK_VLEN >= 8
    CK_TSTAGE(4)
#endif
#if CK_VLEN >= 16
    CK_TSTAGE(8)
#endif
}

static inline int64_t ck_round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

#endif
