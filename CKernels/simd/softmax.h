// Elementwise e^x and row softmax for one SIMD level (needs vector.h and CK_NAME).

void CK_NAME(exp)(float *out, const float *in, int64_t n) {
    int64_t i = 0;
    for (; i + CK_VLEN <= n; i += CK_VLEN) vf_store(out + i, vf_exp(vf_load(in + i)));
    if (i < n) vf_store_partial(out + i, vf_exp(vf_load_partial(in + i, n - i, 0.0f)), n - i);
}

/// out_r = e^(in_r − max in_r) / Σ e^(in_r − max in_r); a row of all −inf becomes 0 rather than NaN.
void CK_NAME(softmax_rows)(float *out, const float *in, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * cols;
        float *y = out + r * cols;
        int64_t tail = cols % CK_VLEN, body = cols - tail;
        vf vmax = vf_splat(-INFINITY);
        for (int64_t j = 0; j < body; j += CK_VLEN) vmax = vf_max(vmax, vf_load(x + j));
        if (tail) vmax = vf_max(vmax, vf_load_partial(x + body, tail, -INFINITY));
        float mx = vf_hmax(vmax);
        if (mx == -INFINITY) mx = 0.0f;
        vf sum = vf_splat(0.0f);
        for (int64_t j = 0; j < body; j += CK_VLEN) {
            vf e = vf_exp(vf_load(x + j) - mx);
            vf_store(y + j, e);
            sum += e;
        }
        if (tail) {
            vf e = vf_exp(vf_load_partial(x + body, tail, -INFINITY) - mx);
            vf_store_partial(y + body, e, tail);
            sum += e;
        }
        const float total = vf_hsum(sum);
        const vf inv = vf_splat(total > 0.0f ? 1.0f / total : 0.0f);
        for (int64_t j = 0; j < body; j += CK_VLEN) vf_store(y + j, vf_load(y + j) * inv);
        for (int64_t j = body; j < cols; j++) y[j] *= inv[0];
    }
}
