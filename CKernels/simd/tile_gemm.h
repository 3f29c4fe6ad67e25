// Register-blocked tile product, the one inner kernel of fused attention (scores, P·V and all backward
// products are instances of it):  C[m × NV·VLEN] (+)= A[m × kk] · B[kk × NV·VLEN].
// A is read one scalar at a time (broadcast) with arbitrary strides (element (r, k) at a[r·ars + k·acs]), so
// Aᵀ costs nothing and A can be read straight from the caller's row-major tensors; B and C rows are
// contiguous vectors. Needs vector.h and, from the level, CK_MR1 … CK_MR4: rows per register block for
// NV = 1 … 4 vectors (MR × NV accumulators + NV B vectors + one broadcast must fit the register file).
#ifndef CK_SIMD_TILE_GEMM_H
#define CK_SIMD_TILE_GEMM_H

#define CK_MAX_MR 16
#define CK_ROWS(NV) ((NV) == 1 ? CK_MR1 : (NV) == 2 ? CK_MR2 : (NV) == 3 ? CK_MR3 : CK_MR4)

/// How a tile starts: from zero, from C, or from C scaled per column vector (online-softmax rescale).
enum { CK_ZERO = 0, CK_ACCUMULATE = 1, CK_RESCALE = 2 };

// MR, NV and mode are compile-time constants at every call site, so the accumulators become registers.
CK_INLINE void tile_block(int MR, int NV, int64_t kk, const float *a, int64_t ars, int64_t acs,
                          const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *colscale) {
    vf acc[CK_MAX_MR][4];
    vf cs[4];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) cs[v] = mode == CK_RESCALE ? vf_load(colscale + v * CK_VLEN) : vf_splat(1.0f);
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            if (mode == CK_ZERO) acc[r][v] = vf_splat(0.0f);
            else if (mode == CK_ACCUMULATE) acc[r][v] = vf_load(c + r * ldc + v * CK_VLEN);
            else acc[r][v] = vf_load(c + r * ldc + v * CK_VLEN) * cs[v];
        }
    for (int64_t k = 0; k < kk; k++) {
        vf bv[4];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) bv[v] = vf_load(b + k * ldb + v * CK_VLEN);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            vf ar = vf_splat(a[r * ars + k * acs]);
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) acc[r][v] = vf_fma(ar, bv[v], acc[r][v]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) vf_store(c + r * ldc + v * CK_VLEN, acc[r][v]);
}

// Remainder rows (fewer than a full register block): one instantiation per row count.
#define CK_REM_CASE(R) case R: if (R < CK_ROWS(NV)) tile_block(R < CK_ROWS(NV) ? R : 1, NV, kk, a, ars, acs, b, ldb, c, ldc, mode, colscale); break;
CK_INLINE void tile_rows_rem(int NV, int64_t rows, int64_t kk, const float *a, int64_t ars, int64_t acs,
                             const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *colscale) {
    switch (rows) {
        CK_REM_CASE(1) CK_REM_CASE(2) CK_REM_CASE(3) CK_REM_CASE(4) CK_REM_CASE(5) CK_REM_CASE(6)
        CK_REM_CASE(7) CK_REM_CASE(8) CK_REM_CASE(9) CK_REM_CASE(10) CK_REM_CASE(11) CK_REM_CASE(12)
        CK_REM_CASE(13) CK_REM_CASE(14) CK_REM_CASE(15)
    }
}

/// C[m × NV vectors] (+)= A · B for a compile-time NV (1 … 4).
CK_INLINE void tile_panel(int NV, int64_t m, int64_t kk, const float *a, int64_t ars, int64_t acs,
                          const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *colscale) {
    const int MR = CK_ROWS(NV);
    int64_t r = 0;
    for (; r + MR <= m; r += MR)
        tile_block(MR, NV, kk, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, mode, colscale);
    if (r < m) tile_rows_rem(NV, m - r, kk, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, mode, colscale);
}

/// C[m × nvec vectors] (+)= A · B for any nvec: column panels of up to 4 vectors, each swept over all rows
/// while its B panel (kk × NV vectors) stays in L1.
static void tile_gemm(int64_t m, int64_t nvec, int64_t kk, const float *a, int64_t ars, int64_t acs,
                      const float *b, int64_t ldb, float *c, int64_t ldc, int mode) {
    for (int64_t v0 = 0; v0 < nvec;) {
        const int64_t left = nvec - v0;
        const int nv = left >= 4 ? 4 : (int)left;
        // Prefer 4-wide panels, but split 5 as 3 + 2 and 6 as 3 + 3 rather than leave a 1- or 2-wide tail.
        const int take = left == 5 || left == 6 ? 3 : nv;
        const float *bp = b + v0 * CK_VLEN;
        float *cp = c + v0 * CK_VLEN;
        switch (take) {
        case 1: tile_panel(1, m, kk, a, ars, acs, bp, ldb, cp, ldc, mode, NULL); break;
        case 2: tile_panel(2, m, kk, a, ars, acs, bp, ldb, cp, ldc, mode, NULL); break;
        case 3: tile_panel(3, m, kk, a, ars, acs, bp, ldb, cp, ldc, mode, NULL); break;
        default: tile_panel(4, m, kk, a, ars, acs, bp, ldb, cp, ldc, mode, NULL); break;
        }
        v0 += take;
    }
}

#endif
