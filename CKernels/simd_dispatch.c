// Runtime choice of the vector path, so one binary runs on CPUs with and without AVX-512.
// The active level belongs to the calling thread: the engine's execution context sets it on every thread that runs
// its kernels, so two evaluations forcing different paths (tests do) can run at once.
#include "CKernels.h"
#include "simd/levels.h"

static int best_level(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

static _Thread_local int active = -1; // −1: not chosen, use the best

int ck_simd_level_supported(void) { return best_level(); }

int ck_cpu_has_skylake_avx512(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

void ck_set_simd_level(int level) {
    int best = best_level();
    active = level < 0 || level > best ? best : level;
}

int ck_active_simd_level(void) {
    return active >= 0 ? active : best_level();
}

int ck_simd_level(void) { return ck_active_simd_level(); }
