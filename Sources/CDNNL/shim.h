// oneDNN (Debian's libdnnl-dev 2.6): its matmul primitive runs the bf16 GEMM on AMX or AVX512-BF16, picked by
// the library at run time. Debian builds it on the OpenMP runtime, whose team size is a per-thread setting of
// the calling thread (libgomp, hence `link "gomp"`), so each call sets it.
#include <oneapi/dnnl/dnnl.h>

#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
void omp_set_num_threads(int);
static inline void atelier_dnnl_set_threads(int threads) { omp_set_num_threads(threads); }
#else
static inline void atelier_dnnl_set_threads(int threads) { (void)threads; }
#endif
