// CKernels: single-threaded C kernels that work on a slice; Swift decides the parallelism.
// Names: ck_<object>_<action>_<dtype>; sizes int64_t; outputs first. Tensors are contiguous row-major;
// shapes are given outermost first.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdbool.h>
#include <stdint.h>

// MARK: - SIMD level

/// Which vector path the kernels use on the calling thread: 0 portable, 1 AVX2+FMA, 2 AVX-512 (the best the CPU has
/// by default).
int ck_simd_level(void);
/// The best level this CPU supports.
int ck_simd_level_supported(void);
/// Whether the CPU has the AVX-512 subsets of Skylake-SP (F, CD, BW, DQ, VL): OpenBLAS's SkylakeX kernels.
int ck_cpu_has_skylake_avx512(void);
/// Forces a level for the calling thread (Swift sets it through ExecutionContext): clamped to what the CPU supports;
/// a negative level restores the best. Results of the levels agree to rounding, not bitwise.
void ck_set_simd_level(int level);

// MARK: - Peak probe

/// Runs `iterations` rounds of independent fused multiply-add chains (x ← x·multiplier + addend) on the active
/// SIMD level's widest vectors; sets *flops to the floating-point operations done and returns a checksum (so the
/// work is not optimised away). Time it on every core at once for the machine's FP32 ceiling.
float ck_fma_probe(int64_t iterations, float multiplier, float addend, double *flops);

// MARK: - Floating-point mode

/// Sets flush-to-zero and denormals-are-zero on the calling thread; returns the previous mode for
/// ck_float_mode_restore. The executor runs every kernel in this mode (subnormals cost microcode assists).
uint32_t ck_float_mode_flush_denormals(void);
void ck_float_mode_restore(uint32_t previous);

// MARK: - Random numbers

/// out[i] = low + (high − low)·u(start + i) as float, u the 53-bit Philox-4×32-10 uniform of RandomGenerator.swift
/// (bit-identical to it) for counter start + i and key seed.
void ck_random_uniform_f32(float *out, int64_t n, uint64_t start, uint64_t seed, double low, double high);
/// out[i] = 1 if u(start + i) < p else 0, with the same uniform.
void ck_random_bernoulli_f32(float *out, int64_t n, uint64_t start, uint64_t seed, double p);

// MARK: - Fused attention

/// Dropout on the attention probabilities, as ck_dropout_f32 would apply it to the [BH, Tq, Tk] probability
/// tensor (element (bh, i, j) at flat index (bh·Tq + i)·Tk + j): kept where its Philox word is below
/// `threshold`, then scaled by `scale`. The softmax normaliser is taken before dropout.
typedef struct {
    uint64_t seed, start;
    uint32_t threshold;
    float scale;
} ck_attention_dropout;

/// O = softmax(Q·Kᵀ·scale + bias)·V for slices bh ∈ [bh_begin, bh_end) of BH = batch·heads.
/// q, out [BH, Tq, D]; k, v [BH, Tk, D]; bias [H, Tq, Tk] or NULL (slice bh uses head bh % heads);
/// lse [BH, Tq] = ln Σ_j e^(logit_ij) of the scaled + biased logits (saved for the backward pass).
/// Tiled with an online softmax: memory is O(D) per call, never Tq × Tk. Rows of other slices are untouched.
/// dropout (or NULL) drops probabilities after the normaliser, as softmax → dropout → ·V.
void ck_attention_forward_f32(float *out, float *lse, const float *q, const float *k, const float *v,
                              const float *bias, const ck_attention_dropout *dropout, int64_t heads, int64_t tq,
                              int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end);

/// Gradients of ck_attention_forward_f32 for the slice, given out, lse and dout [BH, Tq, D].
/// dq [BH, Tq, D], dk, dv [BH, Tk, D] are overwritten for the slice; dbias [H, Tq, Tk] (or NULL) is
/// ACCUMULATED (+=): give concurrently running slices separate zeroed partials and reduce them in a fixed order.
void ck_attention_backward_f32(float *dq, float *dk, float *dv, float *dbias, const float *q, const float *k,
                               const float *v, const float *bias, const ck_attention_dropout *dropout,
                               const float *out, const float *dout, const float *lse, int64_t heads, int64_t tq,
                               int64_t tk, int64_t d, float scale, int64_t bh_begin, int64_t bh_end);

/// Bytes of scratch one call of the forward (backward = 0) or backward (backward = 1) kernel allocates at most
/// (the larger size applies when a large bias makes the kernels process same-head batch elements together).
int64_t ck_attention_scratch_bytes_f32(int64_t tq, int64_t tk, int64_t d, int backward);

// MARK: - Softmax and exp

/// out[r, :] = softmax(in[r, :]) over cols, max-subtracted; rows of all −inf give 0. in and out [rows, cols].
void ck_softmax_rows_f32(float *out, const float *in, int64_t rows, int64_t cols);
/// out[i] = e^in[i], within ~2 ulp (no libm call per element). May alias.
void ck_exp_f32(float *out, const float *in, int64_t n);

// MARK: - im2col / col2im (NCHW)

/// (size + 2·pad − dilation·(kernel − 1) − 1) / stride + 1, or 0 if the kernel does not fit.
int64_t ck_conv_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation);

/// cols [C·KH·KW rows, ld columns]: writes columns [0, OH·OW) of every row from image [C, H, W]
/// (row c·KH·KW + ky·KW + kx, column oy·OW + ox; zero outside the image). For a batch, offset cols by
/// b·OH·OW and pass ld = B·OH·OW, then one GEMM covers all images.
void ck_im2col_f32(float *cols, int64_t ld, const float *image, int64_t channels, int64_t height, int64_t width,
                   int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                   int64_t pad_w, int64_t dilation_h, int64_t dilation_w);
/// Adjoint of ck_im2col_f32: image [C, H, W] is overwritten with, per pixel, the sum of all column entries
/// that im2col would read from it.
void ck_col2im_f32(float *image, const float *cols, int64_t ld, int64_t channels, int64_t height, int64_t width,
                   int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                   int64_t pad_w, int64_t dilation_h, int64_t dilation_w);
void ck_im2col_f64(double *cols, int64_t ld, const double *image, int64_t channels, int64_t height, int64_t width,
                   int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                   int64_t pad_w, int64_t dilation_h, int64_t dilation_w);
void ck_col2im_f64(double *image, const double *cols, int64_t ld, int64_t channels, int64_t height,
                   int64_t width, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                   int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w);

/// Exact-erf GELU, 0.5·x·(1 + erf(x/√2)), elementwise (absolute error < 2e-7·(1+|x|) against libm's erf).
void ck_gelu_forward_f32(float *out, const float *in, int64_t n);
/// dx = g·(Φ(x) + x·φ(x)), the first-order GELU backward.
void ck_gelu_backward_f32(float *dx, const float *x, const float *g, int64_t n);

/// Inverted dropout over elements [64·first_block, min(n, 64·(first_block + block_count))): out = in·scale where
/// the mask keeps the element (Philox word < threshold, layout in dropout.c), else 0. out may equal in.
void ck_dropout_f32(float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                    uint64_t start, uint64_t seed, uint32_t threshold, float scale);
/// dropout(relu(in)) with ck_dropout_f32's mask and arguments, in one pass: bit-identical to the two kernels.
void ck_relu_dropout_f32(float *out, const float *in, int64_t n, int64_t first_block, int64_t block_count,
                         uint64_t start, uint64_t seed, uint32_t threshold, float scale);
/// out = max(in, 0) with NaN → 0; out may equal in.
void ck_relu_forward_f32(float *out, const float *in, int64_t n);
/// dx = g·scale where the ReLU output y is positive, else 0; dx may equal g. Scale 1 is plain ReLU; 1/keep is the
/// backward of dropout(relu(x)) from its output alone (y > 0 exactly where x > 0 and the element was kept).
void ck_relu_backward_f32(float *dx, const float *y, const float *g, float scale, int64_t n);

// MARK: - Batch normalisation (NCHW)

// Channel `channel` of an [N, C, H, W] tensor (batch N, channels C, plane = H·W) is the N planes n·C + channel.
// Each call covers one channel, so the caller can follow a channel's sums with its elementwise pass while the
// channel is in cache. Sums accumulate in double for both element types.

/// *mean and *m2 = Σ(x − mean)² over the channel's N·H·W elements (chunked two-pass, merged exactly).
void ck_batch_norm_statistics_f32(double *mean, double *m2, const float *x, int64_t batch, int64_t channels,
                                  int64_t plane, int64_t channel);
void ck_batch_norm_statistics_f64(double *mean, double *m2, const double *x, int64_t batch, int64_t channels,
                                  int64_t plane, int64_t channel);
/// y = ((x − mean)·rstd)·weight + bias over the channel, and xhat = (x − mean)·rstd unless xhat is NULL;
/// y may equal x.
void ck_batch_norm_normalize_f32(float *y, float *xhat, const float *x, int64_t batch, int64_t channels,
                                 int64_t plane, int64_t channel, float mean, float rstd, float weight, float bias);
void ck_batch_norm_normalize_f64(double *y, double *xhat, const double *x, int64_t batch, int64_t channels,
                                 int64_t plane, int64_t channel, double mean, double rstd, double weight,
                                 double bias);
/// *sum_g = Σ g and *sum_gx = Σ g·xhat over the channel.
void ck_batch_norm_backward_sums_f32(double *sum_g, double *sum_gx, const float *g, const float *xhat,
                                     int64_t batch, int64_t channels, int64_t plane, int64_t channel);
void ck_batch_norm_backward_sums_f64(double *sum_g, double *sum_gx, const double *g, const double *xhat,
                                     int64_t batch, int64_t channels, int64_t plane, int64_t channel);
/// dx = scale·(g − mean_g − xhat·mean_gx) over the channel; dx may equal g.
void ck_batch_norm_backward_f32(float *dx, const float *g, const float *xhat, int64_t batch, int64_t channels,
                                int64_t plane, int64_t channel, float scale, float mean_g, float mean_gx);
void ck_batch_norm_backward_f64(double *dx, const double *g, const double *xhat, int64_t batch, int64_t channels,
                                int64_t plane, int64_t channel, double scale, double mean_g, double mean_gx);

// MARK: - Stroke refinement loss

/// Floats of per-thread scratch for windows of n strokes at r² (ck_refinement_loss_f32), to be prepared once by
/// ck_refinement_scratch_init and then reused by any number of calls.
int64_t ck_refinement_scratch_floats(int64_t n, int64_t r);
void ck_refinement_scratch_init(float *scratch, int64_t n, int64_t r);
/// A brush of width × height intensities as the kernel reads it: out [(height + 3)·(width + 3)], the brush at row 1,
/// column 1, zeros around it.
void ck_refinement_brush_pad(float *out, const float *intensity, int64_t width, int64_t height);
/// Stroke refinement's loss, gradients and leave-one-out changes (RefinementLossKernel.swift) for windows
/// [first, end): targets, canvases [W, 3, r, r]; shapes [W·n, 5] (x, y, w, h, θ), colors [W·n, 3] (≥ 0); drawn and
/// vertical [W·n]; textures padded by ck_refinement_brush_pad. Writes losses[w] (the window's mean squared error),
/// d_shapes, d_colors, removal for those windows only. Windows are independent: any split gives the same values.
void ck_refinement_loss_f32(double *losses, float *d_shapes, float *d_colors, float *removal, const float *targets,
                            const float *canvases, const float *shapes, const float *colors, const bool *drawn,
                            const bool *vertical, const float *vertical_texels, int64_t vertical_width,
                            int64_t vertical_height, const float *horizontal_texels, int64_t horizontal_width,
                            int64_t horizontal_height, int64_t n, int64_t r, float *scratch, int64_t first,
                            int64_t end);
/// Stroke refinement's least-squares colour fit (StrokeRefiner) for windows [first, end), same inputs and scratch as
/// ck_refinement_loss_f32: fitted [W·n, 3] gets each drawn stroke's fitted colour clamped to [0, ceiling], or its
/// colour from `colors` where the stroke shows too little to fit (and for strokes not drawn).
void ck_refinement_fit_colors_f32(float *fitted, const float *targets, const float *canvases, const float *shapes,
                                  const float *colors, const bool *drawn, const bool *vertical,
                                  const float *vertical_texels, int64_t vertical_width, int64_t vertical_height,
                                  const float *horizontal_texels, int64_t horizontal_width, int64_t horizontal_height,
                                  int64_t n, int64_t r, float ceiling, float *scratch, int64_t first, int64_t end);

#endif
