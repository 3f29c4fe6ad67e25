// The vectorised kernels, instantiated once per SIMD level by level_*.c. Before including, define
// CK_VLEN, CK_NV, CK_HAS_FMA and CK_SUFFIX, and include system headers (the target pragma must not
// reach them).
#define CK_CAT2(a, b) ck_##a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(name) CK_CAT(name, CK_SUFFIX)

#include "vector.h"
#include "tile_gemm.h"
#include "softmax.h"
#include "attention_forward.h"
#include "attention_backward.h"
