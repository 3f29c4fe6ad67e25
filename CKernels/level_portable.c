// Portable instantiation: 4-float generic vectors in the baseline ISA (SSE2 on x86-64), mul + add.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "simd/levels.h"

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
#define CK_SUFFIX portable
#include "simd/kernels_template.h"
