// One element type's batch-norm kernels; batch_norm.c includes this with BN_T = float / BN_SUFFIX = f32 and
// with double / f64. Layout NCHW: plane p = n·C + c is `plane` = H·W contiguous elements of channel c.
// Per-channel sums accumulate in double whatever BN_T is, so they stay accurate for any N·H·W.

/// Mean and M2 = Σ(x − mean)² of channels [first, first + count). Each chunk of a plane is read twice while it
/// is in L1 (sum, then squares about the chunk's own mean) and the chunks are merged with Chan et al.'s update:
/// the accuracy of a two-pass variance (no E[x²] − E[x]² cancellation) for one read of x from memory.
CK_INLINE void BN_BODY(bn_statistics)(double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels,
                                      int64_t plane, int64_t first, int64_t count) {
    for (int64_t c = first; c < first + count; c++) {
        double n = 0, mu = 0, ss = 0;
        for (int64_t b = 0; b < batch; b++) {
            const BN_T *p = x + (b * channels + c) * plane;
            for (int64_t o = 0; o < plane; o += BN_CHUNK) {
                const BN_T *q = p + o;
                int64_t k = plane - o < BN_CHUNK ? plane - o : BN_CHUNK;
                double s = 0, d2 = 0;
#pragma clang loop vectorize(enable) interleave_count(4)
                for (int64_t i = 0; i < k; i++) s += q[i];
                double m = s / (double)k;
#pragma clang loop vectorize(enable) interleave_count(4)
                for (int64_t i = 0; i < k; i++) {
                    double d = (double)q[i] - m;
                    d2 += d * d;
                }
                double total = n + (double)k, delta = m - mu;
                mu += delta * ((double)k / total);
                ss += d2 + delta * delta * (n * (double)k / total);
                n = total;
            }
        }
        mean[c] = mu;
        m2[c] = ss;
    }
}

/// Planes [first, first + count): y = ((x − mean)·rstd)·weight + bias, with the per-channel values of each
/// plane's channel; also xhat = (x − mean)·rstd when xhat is not NULL. Element i is read before it is written,
/// so y may equal x.
CK_INLINE void BN_BODY(bn_normalize)(BN_T *y, BN_T *xhat, const BN_T *x, int64_t channels, int64_t plane,
                                     int64_t first, int64_t count, const BN_T *mean, const BN_T *rstd,
                                     const BN_T *weight, const BN_T *bias) {
    for (int64_t p = first; p < first + count; p++) {
        int64_t c = p % channels;
        BN_T m = mean[c], r = rstd[c], w = weight[c], b = bias[c];
        BN_T *yp = y + p * plane;
        const BN_T *xp = x + p * plane;
        if (xhat) {
            BN_T *hp = xhat + p * plane;
#pragma clang loop vectorize(assume_safety)
            for (int64_t i = 0; i < plane; i++) {
                BN_T h = (xp[i] - m) * r;
                hp[i] = h;
                yp[i] = h * w + b;
            }
        } else {
#pragma clang loop vectorize(assume_safety)
            for (int64_t i = 0; i < plane; i++) yp[i] = (xp[i] - m) * r * w + b;
        }
    }
}

/// Σ g and Σ g·xhat of channels [first, first + count).
CK_INLINE void BN_BODY(bn_backward_sums)(double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat,
                                         int64_t batch, int64_t channels, int64_t plane, int64_t first,
                                         int64_t count) {
    for (int64_t c = first; c < first + count; c++) {
        double sg = 0, sgx = 0;
        for (int64_t b = 0; b < batch; b++) {
            const BN_T *gp = g + (b * channels + c) * plane, *hp = xhat + (b * channels + c) * plane;
#pragma clang loop vectorize(enable) interleave_count(2)
            for (int64_t i = 0; i < plane; i++) {
                sg += gp[i];
                sgx += (double)gp[i] * hp[i];
            }
        }
        sum_g[c] = sg;
        sum_gx[c] = sgx;
    }
}

/// Planes [first, first + count): dx = scale·(g − mean_g − xhat·mean_gx) with the plane's channel's values;
/// dx may equal g.
CK_INLINE void BN_BODY(bn_backward)(BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t channels, int64_t plane,
                                    int64_t first, int64_t count, const BN_T *scale, const BN_T *mean_g,
                                    const BN_T *mean_gx) {
    for (int64_t p = first; p < first + count; p++) {
        int64_t c = p % channels;
        BN_T a = scale[c], mg = mean_g[c], mgx = mean_gx[c];
        BN_T *dp = dx + p * plane;
        const BN_T *gp = g + p * plane, *hp = xhat + p * plane;
#pragma clang loop vectorize(assume_safety)
        for (int64_t i = 0; i < plane; i++) dp[i] = a * (gp[i] - mg - hp[i] * mgx);
    }
}

BN_INSTANTIATE(BN_KERNEL(bn_statistics),
               (double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels, int64_t plane,
                int64_t first, int64_t count),
               (mean, m2, x, batch, channels, plane, first, count))
BN_INSTANTIATE(BN_KERNEL(bn_normalize),
               (BN_T *y, BN_T *xhat, const BN_T *x, int64_t channels, int64_t plane, int64_t first, int64_t count,
                const BN_T *mean, const BN_T *rstd, const BN_T *weight, const BN_T *bias),
               (y, xhat, x, channels, plane, first, count, mean, rstd, weight, bias))
BN_INSTANTIATE(BN_KERNEL(bn_backward_sums),
               (double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat, int64_t batch, int64_t channels,
                int64_t plane, int64_t first, int64_t count),
               (sum_g, sum_gx, g, xhat, batch, channels, plane, first, count))
BN_INSTANTIATE(BN_KERNEL(bn_backward),
               (BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t channels, int64_t plane, int64_t first,
                int64_t count, const BN_T *scale, const BN_T *mean_g, const BN_T *mean_gx),
               (dx, g, xhat, channels, plane, first, count, scale, mean_g, mean_gx))

void BN_PUBLIC(statistics)(double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels, int64_t plane,
                           int64_t first, int64_t count) {
    BN_LEVELS(BN_KERNEL(bn_statistics), (mean, m2, x, batch, channels, plane, first, count))
}

void BN_PUBLIC(normalize)(BN_T *y, BN_T *xhat, const BN_T *x, int64_t channels, int64_t plane, int64_t first,
                          int64_t count, const BN_T *mean, const BN_T *rstd, const BN_T *weight, const BN_T *bias) {
    BN_LEVELS(BN_KERNEL(bn_normalize), (y, xhat, x, channels, plane, first, count, mean, rstd, weight, bias))
}

void BN_PUBLIC(backward_sums)(double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat, int64_t batch,
                              int64_t channels, int64_t plane, int64_t first, int64_t count) {
    BN_LEVELS(BN_KERNEL(bn_backward_sums), (sum_g, sum_gx, g, xhat, batch, channels, plane, first, count))
}

void BN_PUBLIC(backward)(BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t channels, int64_t plane, int64_t first,
                         int64_t count, const BN_T *scale, const BN_T *mean_g, const BN_T *mean_gx) {
    BN_LEVELS(BN_KERNEL(bn_backward), (dx, g, xhat, channels, plane, first, count, scale, mean_g, mean_gx))
}
