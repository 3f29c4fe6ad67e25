// Philox-4×32-10 (Salmon et al., SC'11), the counter-based generator behind RandomGenerator.swift: four 32-bit
// words from a 64-bit counter (the upper two counter words fixed at 0x5EED, 0) and a 64-bit key. Shared by the
// random-number and dropout kernels so their streams agree with the Swift reference.
#ifndef CK_PHILOX_H
#define CK_PHILOX_H
#include <stdint.h>

static inline __attribute__((always_inline)) void philox_words(uint64_t counter, uint64_t seed, uint32_t *w0,
                                                                uint32_t *w1, uint32_t *w2, uint32_t *w3) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0x5EED, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1; c3 = (uint32_t)p0;
        c0 = n0; c2 = n2;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    *w0 = c0; *w1 = c1; *w2 = c2; *w3 = c3;
}

/// The 64 mask words of dropout block b (dropout.c's layout): word w of lane l at index 16·w + l.
static inline __attribute__((always_inline)) void philox_block_words(uint32_t words[64], int64_t b, uint64_t start,
                                                                      uint64_t seed) {
    uint64_t base_counter = start + 16 * (uint64_t)b;
#pragma clang loop vectorize(enable)
    for (int l = 0; l < 16; l++)
        philox_words(base_counter + (uint64_t)l, seed, &words[l], &words[16 + l], &words[32 + l], &words[48 + l]);
}

#endif
