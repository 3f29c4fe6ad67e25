// Runtime choice of the vector path, so one binary runs on CPUs with and without AVX-512.
#include "CKernels.h"

int ck_simd_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}
