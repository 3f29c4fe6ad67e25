// OpenBLAS (CBLAS) and LAPACKE, linked by name: never `blas`, which may be the slow reference BLAS.
#include <cblas.h>
#include <lapacke.h>
