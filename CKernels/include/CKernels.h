// CKernels: single-threaded C kernels that work on a slice; Swift decides the parallelism.
// Names: ck_<object>_<action>_<dtype>; sizes int64_t; outputs first.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

/// Which vector path the kernels use: 0 portable, 1 AVX2+FMA, 2 AVX-512 (the best the CPU has by default).
int ck_simd_level(void);

#endif
