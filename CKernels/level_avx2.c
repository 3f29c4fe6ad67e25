// AVX2 + FMA instantiation: 8-float vectors, blocks of 16 queries, up to 12 ymm accumulators (of 16).
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "simd/levels.h"

#if defined(__x86_64__) && defined(__clang__)
#define CK_VLEN 8
#define CK_HAS_FMA 1
#ifndef CK_MR1
#define CK_MR1 8
#define CK_MR2 6
#define CK_MR3 4
#define CK_MR4 3
#endif
#ifndef CK_NQV
#define CK_NQV 2 // query vectors per block
#endif
#define CK_SUFFIX avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "simd/kernels_template.h"
#pragma clang attribute pop
#else
// Not x86-64 (or not Clang): alias to the portable kernels; the dispatcher never selects this level.
#define CK_VLEN 4
#define CK_HAS_FMA 0
#ifndef CK_MR1
#define CK_MR1 8
#define CK_MR2 4
#define CK_MR3 3
#define CK_MR4 2
#endif
#ifndef CK_NQV
#define CK_NQV 2 // query vectors per block
#endif
#define CK_SUFFIX avx2
#include "simd/kernels_template.h"
#endif
