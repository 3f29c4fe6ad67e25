// Register-blocked tile product, the one inner kernel of fused attention (scores, P·V and all backward
// products are instances of it):  C[m × nvec·VLEN] (+)= A[m × kk] · B[kk × nvec·VLEN].
// A is read one scalar at a time with arbitrary strides (element (r, k) at a[r·ars + k·acs]), so Aᵀ costs
// nothing; B and C rows are contiguous vectors. Needs vector.h and CK_NV (vectors per register block).
#ifndef CK_SIMD_TILE_GEMM_H
#define CK_SIMD_TILE_GEMM_H

#define CK_MR 4 // rows per register block: CK_MR × CK_NV accumulators stay in registers

// MR and NV are compile-time constants at every call site, so the accumulator array becomes registers.
CK_INLINE void tile_block(int MR, int NV, int64_t kk, const float *a, int64_t ars, int64_t acs,
                          const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    vf acc[CK_MR][CK_NV];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = accumulate ? vf_load(c + r * ldc + v * CK_VLEN) : vf_splat(0.0f);
    for (int64_t k = 0; k < kk; k++) {
        vf bv[CK_NV];
        for (int v = 0; v < NV; v++) bv[v] = vf_load(b + k * ldb + v * CK_VLEN);
        for (int r = 0; r < MR; r++) {
            vf ar = vf_splat(a[r * ars + k * acs]);
            for (int v = 0; v < NV; v++) acc[r][v] = vf_fma(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) vf_store(c + r * ldc + v * CK_VLEN, acc[r][v]);
}

// One case per (rows, vectors) shape; NV above CK_NV never occurs.
#define CK_TILE_CASE(MR, NV) case NV: if (NV <= CK_NV) tile_block(MR, NV <= CK_NV ? NV : 1, kk, a, ars, acs, b, ldb, c, ldc, accumulate); break;
CK_INLINE void tile_rows(int MR, int64_t nv, int64_t kk, const float *a, int64_t ars, int64_t acs,
                         const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    switch (nv) {
        CK_TILE_CASE(MR, 1)
        CK_TILE_CASE(MR, 2)
        CK_TILE_CASE(MR, 3)
        CK_TILE_CASE(MR, 4)
        CK_TILE_CASE(MR, 5)
        CK_TILE_CASE(MR, 6)
    }
}

static void tile_gemm(int64_t m, int64_t nvec, int64_t kk, const float *a, int64_t ars, int64_t acs,
                      const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    // Column panels outermost: one B panel (kk × CK_NV vectors) stays in L1 while all row blocks use it.
    for (int64_t v0 = 0; v0 < nvec; v0 += CK_NV) {
        int64_t nv = nvec - v0 < CK_NV ? nvec - v0 : CK_NV;
        const float *bp = b + v0 * CK_VLEN;
        float *cp = c + v0 * CK_VLEN;
        int64_t r = 0;
        for (; r + CK_MR <= m; r += CK_MR)
            tile_rows(CK_MR, nv, kk, a + r * ars, ars, acs, bp, ldb, cp + r * ldc, ldc, accumulate);
        for (; r < m; r++)
            tile_rows(1, nv, kk, a + r * ars, ars, acs, bp, ldb, cp + r * ldc, ldc, accumulate);
    }
}

#endif
