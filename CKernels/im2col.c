// im2col / col2im for NCHW images (stride, zero padding, dilation), float and double, one image per call.
// Column matrix: row (c, ky, kx) = c·KH·KW + ky·KW + kx, column oy·OW + ox, rows `ld` apart, so a batch
// can share one matrix [C·KH·KW, B·OH·OW] and one GEMM. col2im is the exact adjoint of im2col:
// it scatters (adds) every column entry back onto the pixel it was read from.
#include <string.h>
#include "CKernels.h"

/// Output columns ox whose input x = ox·stride − pad + kx·dilation lies in [0, width): [*lo, *hi).
static void valid_range(int64_t *lo, int64_t *hi, int64_t out, int64_t offset, int64_t stride, int64_t width) {
    // x = ox·stride + offset ≥ 0  ⇔  ox ≥ ceil(−offset / stride);  x < width  ⇔  ox < ceil((width − offset) / stride)
    int64_t a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t b = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
    *lo = a < out ? a : out;
    *hi = b < out ? b : out;
    if (*hi < *lo) *hi = *lo;
}

#define CK_IM2COL(T, SUFFIX)                                                                                     \
    void ck_im2col_##SUFFIX(T *cols, int64_t ld, const T *image, int64_t channels, int64_t height,              \
                            int64_t width, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,                \
                            int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,                 \
                            int64_t dilation_w) {                                                                \
        const int64_t oh = ck_conv_output_size(height, kernel_h, stride_h, pad_h, dilation_h);                    \
        const int64_t ow = ck_conv_output_size(width, kernel_w, stride_w, pad_w, dilation_w);                     \
        for (int64_t c = 0; c < channels; c++)                                                                   \
            for (int64_t ky = 0; ky < kernel_h; ky++)                                                            \
                for (int64_t kx = 0; kx < kernel_w; kx++) {                                                      \
                    T *row = cols + ((c * kernel_h + ky) * kernel_w + kx) * ld;                                  \
                    const int64_t xoff = kx * dilation_w - pad_w;                                                \
                    int64_t lo, hi;                                                                              \
                    valid_range(&lo, &hi, ow, xoff, stride_w, width);                                            \
                    for (int64_t oy = 0; oy < oh; oy++) {                                                        \
                        T *dst = row + oy * ow;                                                                  \
                        const int64_t y = oy * stride_h - pad_h + ky * dilation_h;                               \
                        if (y < 0 || y >= height) {                                                              \
                            memset(dst, 0, (size_t)ow * sizeof(T));                                              \
                            continue;                                                                            \
                        }                                                                                        \
                        const T *src = image + (c * height + y) * width;                                  \
                        for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;                                         \
                        if (stride_w == 1)                                                                       \
                            memcpy(dst + lo, src + lo + xoff, (size_t)(hi - lo) * sizeof(T));                           \
                        else                                                                                     \
                            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * stride_w + xoff];                   \
                        for (int64_t ox = hi; ox < ow; ox++) dst[ox] = 0;                                        \
                    }                                                                                            \
                }                                                                                                \
    }                                                                                                            \
                                                                                                                 \
    void ck_col2im_##SUFFIX(T *image, const T *cols, int64_t ld, int64_t channels, int64_t height,              \
                            int64_t width, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,                \
                            int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,                 \
                            int64_t dilation_w) {                                                                \
        const int64_t oh = ck_conv_output_size(height, kernel_h, stride_h, pad_h, dilation_h);                    \
        const int64_t ow = ck_conv_output_size(width, kernel_w, stride_w, pad_w, dilation_w);                     \
        memset(image, 0, (size_t)(channels * height * width) * sizeof(T));                                       \
        for (int64_t c = 0; c < channels; c++)                                                                   \
            for (int64_t ky = 0; ky < kernel_h; ky++)                                                            \
                for (int64_t kx = 0; kx < kernel_w; kx++) {                                                      \
                    const T *row = cols + ((c * kernel_h + ky) * kernel_w + kx) * ld;                            \
                    const int64_t xoff = kx * dilation_w - pad_w;                                                \
                    int64_t lo, hi;                                                                              \
                    valid_range(&lo, &hi, ow, xoff, stride_w, width);                                            \
                    for (int64_t oy = 0; oy < oh; oy++) {                                                        \
                        const int64_t y = oy * stride_h - pad_h + ky * dilation_h;                               \
                        if (y < 0 || y >= height) continue;                                                      \
                        const T *src = row + oy * ow;                                                            \
                        T *dst = image + (c * height + y) * width;                                        \
                        for (int64_t ox = lo; ox < hi; ox++) dst[ox * stride_w + xoff] += src[ox];                      \
                    }                                                                                            \
                }                                                                                                \
    }

int64_t ck_conv_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

CK_IM2COL(float, f32)
CK_IM2COL(double, f64)
