// Batch normalisation over (N, H, W) per channel of NCHW tensors: per-channel statistics, the normalise-and-
// scale pass, and the backward's per-channel sums and input-gradient pass. The bodies (simd/batch_norm.h) are
// written once, included here for float and for double, and compiled per SIMD level by CK_INSTANTIATE; plain
// loops with `vectorize(enable)` let clang reorder the double reductions into vector partial sums (no global
// fast-math needed), so the levels' sums agree to rounding, not bitwise.
#include "CKernels.h"
#include "simd/instantiate.h"

#define BN_CAT_(a, b) a##_##b
#define BN_CAT(a, b) BN_CAT_(a, b)
#define BN_CAT3_(a, b, c) a##_##b##_##c
#define BN_CAT3(a, b, c) BN_CAT3_(a, b, c)
/// bn_statistics → bn_statistics_f32 (BN_SUFFIX f32), and its body bn_statistics_f32_body.
#define BN_KERNEL(name) BN_CAT(name, BN_SUFFIX)
#define BN_BODY(name) BN_CAT3(name, BN_SUFFIX, body)
/// statistics → ck_batch_norm_statistics_f32, the public name.
#define BN_PUBLIC(name) BN_CAT(ck_batch_norm_##name, BN_SUFFIX)
// CK_INSTANTIATE and CK_LEVELS paste onto their name argument, which suppresses its expansion: go through one
// more macro so BN_KERNEL(...) is expanded first.
#define BN_INSTANTIATE(name, params, args) CK_INSTANTIATE(name, params, args)
#define BN_LEVELS(name, args) CK_LEVELS(name, args)

/// Elements of a plane taken in one two-pass chunk by the statistics kernel: 16 KiB of double, within L1.
#define BN_CHUNK 2048

#define BN_T float
#define BN_SUFFIX f32
#include "simd/batch_norm.h"
#undef BN_T
#undef BN_SUFFIX

#define BN_T double
#define BN_SUFFIX f64
#include "simd/batch_norm.h"
#undef BN_T
#undef BN_SUFFIX
