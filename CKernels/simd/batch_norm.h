// One element type's batch-norm kernels; batch_norm.c includes this with BN_T = float / BN_SUFFIX = f32 and
// with double / f64. Layout NCHW: channel c is the N planes n·C + c of `plane` = H·W contiguous elements. Each
// call works on one channel, so a caller can run a channel's reduction and then its elementwise pass back to back
// while the channel is still in cache. Sums accumulate in double whatever BN_T is, accurate for any N·H·W.

/// Mean and M2 = Σ(x − mean)² of the channel. Each chunk of a plane is read twice while it is in L1 (sum, then
/// squares about the chunk's own mean) and the chunks are merged with Chan et al.'s update: the accuracy of a
/// two-pass variance (no E[x²] − E[x]² cancellation) for one read of x from memory.
CK_INLINE void BN_BODY(bn_statistics)(double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels,
                                      int64_t plane, int64_t channel) {
    double n = 0, mu = 0, ss = 0;
    for (int64_t b = 0; b < batch; b++) {
        const BN_T *p = x + (b * channels + channel) * plane;
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
    *mean = mu;
    *m2 = ss;
}

/// y = ((x − mean)·rstd)·weight + bias over the channel, and xhat = (x − mean)·rstd when xhat is not NULL (then
/// with a fused multiply-add for y). Element i is read before it is written, so y may equal x.
CK_INLINE void BN_BODY(bn_normalize)(BN_T *y, BN_T *xhat, const BN_T *x, int64_t batch, int64_t channels,
                                     int64_t plane, int64_t channel, BN_T mean, BN_T rstd, BN_T weight, BN_T bias) {
    for (int64_t b = 0; b < batch; b++) {
        int64_t o = (b * channels + channel) * plane;
        BN_T *yp = y + o;
        const BN_T *xp = x + o;
        if (xhat) {
            BN_T *hp = xhat + o;
#pragma clang loop vectorize(assume_safety)
            for (int64_t i = 0; i < plane; i++) {
                BN_T h = (xp[i] - mean) * rstd;
                hp[i] = h;
                yp[i] = h * weight + bias;
            }
        } else {
            // No fused multiply-add here: evaluation rounds as the engine-op form did, ((x − mean)·rstd)·weight then
            // + bias, so trained models give the same bits as before this kernel.
#pragma clang fp contract(off)
#pragma clang loop vectorize(assume_safety)
            for (int64_t i = 0; i < plane; i++) yp[i] = (xp[i] - mean) * rstd * weight + bias;
        }
    }
}

/// Σ g and Σ g·xhat over the channel.
CK_INLINE void BN_BODY(bn_backward_sums)(double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat,
                                         int64_t batch, int64_t channels, int64_t plane, int64_t channel) {
    double sg = 0, sgx = 0;
    for (int64_t b = 0; b < batch; b++) {
        const BN_T *gp = g + (b * channels + channel) * plane, *hp = xhat + (b * channels + channel) * plane;
#pragma clang loop vectorize(enable) interleave_count(2)
        for (int64_t i = 0; i < plane; i++) {
            sg += gp[i];
            sgx += (double)gp[i] * hp[i];
        }
    }
    *sum_g = sg;
    *sum_gx = sgx;
}

/// dx = scale·(g − mean_g − xhat·mean_gx) over the channel; dx may equal g.
CK_INLINE void BN_BODY(bn_backward)(BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t batch, int64_t channels,
                                    int64_t plane, int64_t channel, BN_T scale, BN_T mean_g, BN_T mean_gx) {
    for (int64_t b = 0; b < batch; b++) {
        int64_t o = (b * channels + channel) * plane;
        BN_T *dp = dx + o;
        const BN_T *gp = g + o, *hp = xhat + o;
#pragma clang loop vectorize(assume_safety)
        for (int64_t i = 0; i < plane; i++) dp[i] = scale * (gp[i] - mean_g - hp[i] * mean_gx);
    }
}

BN_INSTANTIATE(BN_KERNEL(bn_statistics),
               (double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels, int64_t plane,
                int64_t channel),
               (mean, m2, x, batch, channels, plane, channel))
BN_INSTANTIATE(BN_KERNEL(bn_normalize),
               (BN_T *y, BN_T *xhat, const BN_T *x, int64_t batch, int64_t channels, int64_t plane, int64_t channel,
                BN_T mean, BN_T rstd, BN_T weight, BN_T bias),
               (y, xhat, x, batch, channels, plane, channel, mean, rstd, weight, bias))
BN_INSTANTIATE(BN_KERNEL(bn_backward_sums),
               (double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat, int64_t batch, int64_t channels,
                int64_t plane, int64_t channel),
               (sum_g, sum_gx, g, xhat, batch, channels, plane, channel))
BN_INSTANTIATE(BN_KERNEL(bn_backward),
               (BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t batch, int64_t channels, int64_t plane,
                int64_t channel, BN_T scale, BN_T mean_g, BN_T mean_gx),
               (dx, g, xhat, batch, channels, plane, channel, scale, mean_g, mean_gx))

void BN_PUBLIC(statistics)(double *mean, double *m2, const BN_T *x, int64_t batch, int64_t channels, int64_t plane,
                           int64_t channel) {
    BN_LEVELS(BN_KERNEL(bn_statistics), (mean, m2, x, batch, channels, plane, channel))
}

void BN_PUBLIC(normalize)(BN_T *y, BN_T *xhat, const BN_T *x, int64_t batch, int64_t channels, int64_t plane,
                          int64_t channel, BN_T mean, BN_T rstd, BN_T weight, BN_T bias) {
    BN_LEVELS(BN_KERNEL(bn_normalize), (y, xhat, x, batch, channels, plane, channel, mean, rstd, weight, bias))
}

void BN_PUBLIC(backward_sums)(double *sum_g, double *sum_gx, const BN_T *g, const BN_T *xhat, int64_t batch,
                              int64_t channels, int64_t plane, int64_t channel) {
    BN_LEVELS(BN_KERNEL(bn_backward_sums), (sum_g, sum_gx, g, xhat, batch, channels, plane, channel))
}

void BN_PUBLIC(backward)(BN_T *dx, const BN_T *g, const BN_T *xhat, int64_t batch, int64_t channels, int64_t plane,
                         int64_t channel, BN_T scale, BN_T mean_g, BN_T mean_gx) {
    BN_LEVELS(BN_KERNEL(bn_backward), (dx, g, xhat, batch, channels, plane, channel, scale, mean_g, mean_gx))
}
