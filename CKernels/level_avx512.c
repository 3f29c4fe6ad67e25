// AVX-512 instantiation: 16-float vectors, blocks of 64 queries, up to 24 zmm accumulators (of 32).
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "simd/levels.h"

#if defined(__x86_64__) && defined(__clang__)
#define CK_VLEN 16
#define CK_HAS_FMA 1
#ifndef CK_MR1
#define CK_MR1 16
#define CK_MR2 12
#define CK_MR3 8
#define CK_MR4 6
#endif
#ifndef CK_NQV
#define CK_NQV 4 // query vectors per block
#endif
#define CK_SUFFIX avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "simd/kernels_template.h"
#pragma clang attribute pop
#else
#define CK_VLEN 4
#define CK_HAS_FMA 0
#ifndef CK_MR1
#define CK_MR1 8
#define CK_MR2 4
#define CK_MR3 3
#define CK_MR4 2
#endif
#ifndef CK_NQV
#define CK_NQV 4 // query vectors per block
#endif
#define CK_SUFFIX avx512
#include "simd/kernels_template.h"
#endif
