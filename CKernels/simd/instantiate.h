// Per-level instantiation of a kernel written once as `static inline NAME_body(...)`: CK_INSTANTIATE makes
// NAME_portable, NAME_avx2 and NAME_avx512 (clang vectorises each body for its target), CK_LEVELS calls the one
// the process's SIMD level names, so tests can force every path.
#ifndef CK_SIMD_INSTANTIATE_H
#define CK_SIMD_INSTANTIATE_H
#include "levels.h"

#define CK_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__clang__)
#define CK_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define CK_AVX2 __attribute__((target("avx2,fma")))
#define CK_LEVELS(name, args) \
    switch (ck_active_simd_level()) { \
    case 2: name##_avx512 args; return; \
    case 1: name##_avx2 args; return; \
    default: name##_portable args; return; \
    }
#define CK_INSTANTIATE(name, params, args) \
    static CK_AVX512 void name##_avx512 params { name##_body args; } \
    static CK_AVX2 void name##_avx2 params { name##_body args; } \
    static void name##_portable params { name##_body args; }
#else
#define CK_LEVELS(name, args) name##_portable args;
#define CK_INSTANTIATE(name, params, args) static void name##_portable params { name##_body args; }
#endif

#endif
