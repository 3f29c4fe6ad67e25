// Flush-to-zero / denormals-are-zero for the calling thread. Second-order GAN gradients produce subnormal
// floats (softmax tails, GELU of very negative inputs) and x86 cores take microcode assists on every
// arithmetic op that touches one: whole elementwise passes ran 5–30× slower. Values below 1.2e-38 (float)
// and 2.2e-308 (double) become 0, which changes no result that matters.
#include "CKernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_FTZ_DAZ 0x8040u
uint32_t ck_float_mode_flush_denormals(void) {
    uint32_t previous = _mm_getcsr();
    _mm_setcsr(previous | CK_FTZ_DAZ);
    return previous;
}
void ck_float_mode_restore(uint32_t previous) { _mm_setcsr(previous); }
#elif defined(__aarch64__)
uint32_t ck_float_mode_flush_denormals(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1ull << 24)));
    return (uint32_t)fpcr;
}
void ck_float_mode_restore(uint32_t previous) {
    uint64_t fpcr = previous;
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#else
uint32_t ck_float_mode_flush_denormals(void) { return 0; }
void ck_float_mode_restore(uint32_t previous) { (void)previous; }
#endif
