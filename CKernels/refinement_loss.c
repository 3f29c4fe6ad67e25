// Stroke refinement's fused loss and gradient per window (RefinementLossKernel.swift states the maths and its
// reference). Written for the vectoriser: every plane has a 1-pixel border outside the window, so the 3×3 filters
// and their arg-max routing need no edge tests (intensity borders hold −∞, which a max never picks, mask borders
// +∞, which a min never picks, and neither equals a filtered value); brushes carry a zero border of one texel on
// the left/top and two on the right/bottom, so bilinear taps need no bounds tests either (a sample outside the
// brush reads clamped taps and is zeroed by a select). Rows of a box are processed as contiguous runs.
//
// The results are bitwise those of the scalar Swift kernel this replaced, on every SIMD level: `paint` is chaotic
// in them (refinement's Adam steps and pruning turn a rounding difference into ±0.1–0.3 dB on a photo), so
// paintings stay as they were and do not depend on the CPU. Hence no contraction into FMA, the same operation
// order in every expression, and sums that run in pixel order: the vector loops store per-pixel terms in row
// buffers, and a scalar pass adds them up (with the filters' scatter-add of the routing, scalar anyway).
#include <math.h>
#include <string.h>
#include "CKernels.h"
#include "simd/instantiate.h"

#pragma STDC FP_CONTRACT OFF

typedef struct {
    int64_t r, n, stride, plane; // stride r + 2, plane stride² (rounded up to 16 floats)
} layout;

static layout layout_of(int64_t n, int64_t r) {
    int64_t stride = r + 2, plane = (stride * stride + 15) / 16 * 16;
    return (layout){r, n, stride, plane};
}

// Shared planes, then 11 per stroke; then per-row temporaries and the boxes (ints).
enum { SHARED_CANVAS = 0, SHARED_GRADIENT = 3, SHARED_TRANSMITTANCE = 6, SHARED_DS0 = 7, SHARED_DS1 = 8,
       SHARED_ROW0 = 9, SHARED_ROW1 = 10, SHARED_PLANES = 11 };
enum { STROKE_UNDER = 0, STROKE_S0 = 3, STROKE_S1 = 4, STROKE_SX0 = 5, STROKE_SX1 = 6, STROKE_SY0 = 7, STROKE_SY1 = 8,
       STROKE_F0 = 9, STROKE_F1 = 10, STROKE_PLANES = 11 };

enum { ROW_ADD0, ROW_ADD1, ROW_SRC0, ROW_SRC1, ROW_COLOR0, ROW_COLOR1, ROW_COLOR2, ROW_CHANGE, ROW_BUFFERS };

static int64_t row_floats(int64_t r) { return (r + 15) / 16 * 16; }

int64_t ck_refinement_scratch_floats(int64_t n, int64_t r) {
    layout l = layout_of(n, r);
    // Planes, coordinates + the row buffers, boxes (4 int64 per stroke).
    return (SHARED_PLANES + STROKE_PLANES * n) * l.plane + (1 + ROW_BUFFERS) * row_floats(r) + 8 * n;
}

void ck_refinement_scratch_init(float *scratch, int64_t n, int64_t r) {
    layout l = layout_of(n, r);
    memset(scratch, 0, (size_t)ck_refinement_scratch_floats(n, r) * sizeof(float));
    // Whole planes at ±∞: the interior is always written before it is read, the border never.
    for (int64_t k = 0; k < l.plane; k++) {
        scratch[SHARED_ROW0 * l.plane + k] = -INFINITY;
        scratch[SHARED_ROW1 * l.plane + k] = INFINITY;
    }
    for (int64_t i = 0; i < n; i++) {
        float *stroke = scratch + (SHARED_PLANES + STROKE_PLANES * i) * l.plane;
        for (int64_t k = 0; k < l.plane; k++) {
            stroke[STROKE_S0 * l.plane + k] = -INFINITY;
            stroke[STROKE_S1 * l.plane + k] = INFINITY;
        }
    }
    float *coordinates = scratch + (SHARED_PLANES + STROKE_PLANES * n) * l.plane;
    for (int64_t q = 0; q < r; q++) coordinates[q] = (float)(2 * q + 1) / (float)r - 1;
}

void ck_refinement_brush_pad(float *out, const float *intensity, int64_t width, int64_t height) {
    int64_t w = width + 3;
    memset(out, 0, (size_t)(w * (height + 3)) * sizeof(float));
    for (int64_t y = 0; y < height; y++) memcpy(out + (y + 1) * w + 1, intensity + y * width, (size_t)width * sizeof(float));
}

typedef struct { int64_t y0, y1, x0, x1; } box; // rows [y0, y1), columns [x0, x1)

// π as Swift's Float.pi, rounded toward zero (M_PI as a float rounds up): the reference's angle convention.
static const float swift_float_pi = 0x1.921fb4p+1f;

typedef struct {
    float a00, a01, a02, a10, a11, a12, c, s;
} affine;

// The reference's inverse affine matrix for a square window, with cos and sin of the angle.
CK_INLINE affine affine_of(const float *shape) {
    float x = shape[0], y = shape[1], w = shape[2], h = shape[3];
    float angle = shape[4] * swift_float_pi;
    float c = (float)cos((double)angle), s = (float)sin((double)angle);
    affine a;
    a.a00 = c / w; a.a01 = s / w; a.a10 = -s / h; a.a11 = c / h;
    a.a02 = (1 - 2 * x) * a.a00 + (1 - 2 * y) * a.a01;
    a.a12 = (1 - 2 * y) * a.a11 + (1 - 2 * x) * a.a10;
    a.c = c; a.s = s;
    return a;
}

// Pixel rows [first, last] of the range [lo, hi] mapped to pixels, one pixel of margin, clipped to the window. The
// clamps keep the conversions defined and leave ranges entirely outside the window empty.
CK_INLINE void clip_range(float lo, float hi, int64_t r, int64_t *first, int64_t *end) {
    float l = fminf(fmaxf(floorf(lo), -1), (float)(r + 2)), h = fmaxf(fminf(ceilf(hi), (float)r), -3);
    int64_t f = (int64_t)l - 1, e = (int64_t)h + 1;
    if (f < 0) f = 0;
    if (e > r - 1) e = r - 1;
    if (f <= e) { *first = f; *end = e + 1; } else { *first = 0; *end = 0; }
}

// Pixels whose samples can be non-zero: the brush's box, one texel wider, mapped into the window, plus one pixel of
// margin, clipped to the window (the whole window when the map is degenerate).
CK_INLINE box footprint(affine a, int64_t wb, int64_t hb, int64_t r) {
    box all = {0, r, 0, r};
    float det = a.a00 * a.a11 - a.a01 * a.a10;
    if (!isfinite(det) || det == 0) return all;
    float ex = 1 + 1 / (float)wb, ey = 1 + 1 / (float)hb;
    float lox = INFINITY, loy = INFINITY, hix = -INFINITY, hiy = -INFINITY;
    for (int cx = 0; cx < 2; cx++) {
        for (int cy = 0; cy < 2; cy++) {
            float gx = cx ? ex : -ex, gy = cy ? ey : -ey;
            float u = (a.a11 * (gx - a.a02) - a.a01 * (gy - a.a12)) / det;
            float v = (-a.a10 * (gx - a.a02) + a.a00 * (gy - a.a12)) / det;
            // Normalised u = (2q + 1)/r − 1 ⇒ pixel q = ((u + 1)·r − 1)/2.
            float px = ((u + 1) * (float)r - 1) / 2, py = ((v + 1) * (float)r - 1) / 2;
            lox = fminf(lox, px); hix = fmaxf(hix, px);
            loy = fminf(loy, py); hiy = fmaxf(hiy, py);
        }
    }
    if (!isfinite(lox) || !isfinite(loy) || !isfinite(hix) || !isfinite(hiy)) return all;
    box b;
    clip_range(loy, hiy, r, &b.y0, &b.y1);
    clip_range(lox, hix, r, &b.x0, &b.x1);
    if (b.y0 >= b.y1 || b.x0 >= b.x1) b = (box){0, 0, 0, 0};
    return b;
}

// The box grown by the filters' reach, clipped to the window.
CK_INLINE box ring_of(box b, int64_t r) {
    box g = {b.y0 > 0 ? b.y0 - 1 : 0, b.y1 < r ? b.y1 + 1 : r, b.x0 > 0 ? b.x0 - 1 : 0, b.x1 < r ? b.x1 + 1 : r};
    return g;
}

// Samples a stroke's brush (intensity and mask) with slopes over its box, then the 3×3 max of the intensity and
// 3×3 min of the mask (separably, as the engine's filters).
CK_INLINE void sample_stroke(float *stroke, float *row0, float *row1, const float *coordinates, affine a,
                             const float *texels, int64_t wb, int64_t hb, box b, layout l) {
    int64_t R = l.stride, P = l.plane, r = l.r;
    float *restrict s0 = stroke + STROKE_S0 * P, *restrict s1 = stroke + STROKE_S1 * P;
    float *restrict sx0 = stroke + STROKE_SX0 * P, *restrict sx1 = stroke + STROKE_SX1 * P;
    float *restrict sy0 = stroke + STROKE_SY0 * P, *restrict sy1 = stroke + STROKE_SY1 * P;
    box g = ring_of(b, r);
    for (int64_t y = g.y0; y < g.y1; y++)
        for (int64_t x = g.x0; x < g.x1; x++) s0[(y + 1) * R + x + 1] = 0, s1[(y + 1) * R + x + 1] = 0;
    const float sx = (float)wb / 2, sy = (float)hb / 2, xmax = (float)(wb + 1), ymax = (float)(hb + 1);
    const int32_t tw = (int32_t)(wb + 3);
    for (int64_t y = b.y0; y < b.y1; y++) {
        float v = coordinates[y], bx = a.a01 * v, by = a.a11 * v;
        int64_t o = (y + 1) * R + 1;
#pragma clang loop vectorize(assume_safety)
        for (int64_t x = b.x0; x < b.x1; x++) {
            float u = coordinates[x];
            float gx = a.a00 * u + bx + a.a02, gy = a.a10 * u + by + a.a12;
            float ix = (gx + 1) * sx - 0.5f, iy = (gy + 1) * sy - 0.5f;
            // Taps are (⌊i⌋, ⌊i⌋ + 1) with ⌊i⌋ ∈ [−1, size] when −1 ≤ i < size + 1 (NaN fails); outside, a clamped
            // position whose result is replaced by zeros.
            int ok = ix >= -1 && iy >= -1 && ix < xmax && iy < ymax;
            ix = ok ? ix : -1; iy = ok ? iy : -1;
            float fx = floorf(ix), fy = floorf(iy), tx = ix - fx, ty = iy - fy;
            int32_t at = ((int32_t)fy + 1) * tw + (int32_t)fx + 1;
            float v00 = texels[at], v01 = texels[at + 1], v10 = texels[at + tw], v11 = texels[at + tw + 1];
            float m00 = v00 > 0 ? 1.0f : 0.0f, m01 = v01 > 0 ? 1.0f : 0.0f;
            float m10 = v10 > 0 ? 1.0f : 0.0f, m11 = v11 > 0 ? 1.0f : 0.0f;
            float top0 = v00 + (v01 - v00) * tx, bottom0 = v10 + (v11 - v10) * tx;
            float top1 = m00 + (m01 - m00) * tx, bottom1 = m10 + (m11 - m10) * tx;
            s0[o + x] = ok ? top0 + (bottom0 - top0) * ty : 0;
            s1[o + x] = ok ? top1 + (bottom1 - top1) * ty : 0;
            sx0[o + x] = ok ? ((v01 - v00) * (1 - ty) + (v11 - v10) * ty) * sx : 0;
            sx1[o + x] = ok ? ((m01 - m00) * (1 - ty) + (m11 - m10) * ty) * sx : 0;
            sy0[o + x] = ok ? (bottom0 - top0) * sy : 0;
            sy1[o + x] = ok ? (bottom1 - top1) * sy : 0;
        }
    }
    // 1×3 pass over the ring's rows, then 3×1 over the box; out-of-window neighbours are the ±∞ borders.
    for (int64_t y = g.y0; y < g.y1; y++) {
        int64_t o = (y + 1) * R + 1;
#pragma clang loop vectorize(assume_safety)
        for (int64_t x = b.x0; x < b.x1; x++) {
            float m = s0[o + x - 1] > s0[o + x] ? s0[o + x - 1] : s0[o + x];
            row0[o + x] = s0[o + x + 1] > m ? s0[o + x + 1] : m;
            float n = s1[o + x - 1] < s1[o + x] ? s1[o + x - 1] : s1[o + x];
            row1[o + x] = s1[o + x + 1] < n ? s1[o + x + 1] : n;
        }
    }
    float *restrict f0 = stroke + STROKE_F0 * P, *restrict f1 = stroke + STROKE_F1 * P;
    for (int64_t y = b.y0; y < b.y1; y++) {
        int64_t o = (y + 1) * R + 1;
#pragma clang loop vectorize(assume_safety)
        for (int64_t x = b.x0; x < b.x1; x++) {
            float m = row0[o + x - R] > row0[o + x] ? row0[o + x - R] : row0[o + x];
            f0[o + x] = row0[o + x + R] > m ? row0[o + x + R] : m;
            float n = row1[o + x - R] < row1[o + x] ? row1[o + x - R] : row1[o + x];
            f1[o + x] = row1[o + x + R] < n ? row1[o + x + R] : n;
        }
    }
}

// Where the engine's 3×3 filter at padded index q takes its extreme from: the centre if it holds it, else the first
// neighbour in scan order that does (borders never match).
CK_INLINE int32_t source_of(const float *s, float best, int32_t q, int32_t R) {
    int32_t at = q;
    at = s[q + R + 1] == best ? q + R + 1 : at;
    at = s[q + R] == best ? q + R : at;
    at = s[q + R - 1] == best ? q + R - 1 : at;
    at = s[q + 1] == best ? q + 1 : at;
    at = s[q - 1] == best ? q - 1 : at;
    at = s[q - R + 1] == best ? q - R + 1 : at;
    at = s[q - R] == best ? q - R : at;
    at = s[q - R - 1] == best ? q - R - 1 : at;
    return s[q] == best ? q : at;
}

// Stroke k's footprint in the window, its brush sampled and filtered into its planes when the box is not empty.
CK_INLINE box place_stroke(float *stroke, float *row0, float *row1, const float *coordinates, const float *shape,
                           bool vertical, const float *vertical_texels, int64_t vertical_width,
                           int64_t vertical_height, const float *horizontal_texels, int64_t horizontal_width,
                           int64_t horizontal_height, layout l) {
    const float *texels = vertical ? vertical_texels : horizontal_texels;
    int64_t wb = vertical ? vertical_width : horizontal_width, hb = vertical ? vertical_height : horizontal_height;
    affine a = affine_of(shape);
    box b = footprint(a, wb, hb, l.r);
    if (b.y0 < b.y1) sample_stroke(stroke, row0, row1, coordinates, a, texels, wb, hb, b, l);
    return b;
}

CK_INLINE void refinement_windows_body(double *losses, float *d_shapes, float *d_colors, float *removal,
                                       const float *targets, const float *canvases, const float *shapes,
                                       const float *colors, const bool *drawn, const bool *vertical,
                                       const float *vertical_texels, int64_t vertical_width, int64_t vertical_height,
                                       const float *horizontal_texels, int64_t horizontal_width,
                                       int64_t horizontal_height, int64_t n, int64_t r, float *scratch,
                                       int64_t first, int64_t end) {
    layout l = layout_of(n, r);
    const int64_t R = l.stride, P = l.plane, area = r * r;
    float *restrict painted = scratch + SHARED_CANVAS * P, *restrict g = scratch + SHARED_GRADIENT * P;
    float *restrict transmittance = scratch + SHARED_TRANSMITTANCE * P;
    float *restrict ds0 = scratch + SHARED_DS0 * P, *restrict ds1 = scratch + SHARED_DS1 * P;
    float *row0 = scratch + SHARED_ROW0 * P, *row1 = scratch + SHARED_ROW1 * P;
    float *strokes = scratch + SHARED_PLANES * P;
    float *tail = scratch + (SHARED_PLANES + STROKE_PLANES * n) * P;
    const float *coordinates = tail;
    float *rows = tail + row_floats(r);
#define ROW(k) (rows + (k) * row_floats(r))
    float *restrict add0 = ROW(ROW_ADD0), *restrict add1 = ROW(ROW_ADD1);
    int32_t *restrict src0 = (int32_t *)ROW(ROW_SRC0), *restrict src1 = (int32_t *)ROW(ROW_SRC1);
    float *restrict color0 = ROW(ROW_COLOR0), *restrict color1 = ROW(ROW_COLOR1), *restrict color2 = ROW(ROW_COLOR2);
    float *restrict changes = ROW(ROW_CHANGE);
#undef ROW
    box *bx = (box *)(tail + (1 + ROW_BUFFERS) * row_floats(r));
    const float scale = 1.0f / (float)(3 * area);

    for (int64_t w = first; w < end; w++) {
        const float *target = targets + w * 3 * area, *canvas = canvases + w * 3 * area;
        for (int ch = 0; ch < 3; ch++)
            for (int64_t y = 0; y < r; y++)
                memcpy(painted + ch * P + (y + 1) * R + 1, canvas + ch * area + y * r, (size_t)r * sizeof(float));
        // Forward, painting in place; each stroke keeps what it covers for the backward.
        for (int64_t i = 0; i < n; i++) {
            int64_t k = w * n + i;
            bx[i] = (box){0, 0, 0, 0};
            if (!drawn[k]) continue;
            float *stroke = strokes + STROKE_PLANES * i * P;
            box b = place_stroke(stroke, row0, row1, coordinates, shapes + k * 5, vertical[k], vertical_texels,
                                 vertical_width, vertical_height, horizontal_texels, horizontal_width, horizontal_height, l);
            bx[i] = b;
            if (b.y0 >= b.y1) continue;
            const float c0 = colors[k * 3], c1 = colors[k * 3 + 1], c2 = colors[k * 3 + 2];
            const float *f0 = stroke + STROKE_F0 * P, *f1 = stroke + STROKE_F1 * P;
            float *restrict under = stroke + STROKE_UNDER * P;
            for (int64_t y = b.y0; y < b.y1; y++) {
                int64_t o = (y + 1) * R + 1;
#pragma clang loop vectorize(assume_safety)
                for (int64_t x = b.x0; x < b.x1; x++) {
                    int64_t p = o + x;
                    float f = f0[p], alpha = f1[p], keep = 1 - alpha;
                    float l0 = fminf(c0 * f, 1) * alpha, l1 = fminf(c1 * f, 1) * alpha, l2 = fminf(c2 * f, 1) * alpha;
                    float b0 = painted[p], b1 = painted[P + p], b2 = painted[2 * P + p];
                    under[p] = b0; under[P + p] = b1; under[2 * P + p] = b2;
                    painted[p] = l0 + b0 * keep;
                    painted[P + p] = l1 + b1 * keep;
                    painted[2 * P + p] = l2 + b2 * keep;
                }
            }
        }
        // Loss and d loss / d painted; transmittance starts at 1 (no later strokes).
        double sse = 0;
        for (int ch = 0; ch < 3; ch++) {
            for (int64_t y = 0; y < r; y++) {
                const float *t = target + ch * area + y * r;
                float *restrict pr = painted + ch * P + (y + 1) * R + 1, *restrict gr = g + ch * P + (y + 1) * R + 1;
#pragma clang loop vectorize(assume_safety)
                for (int64_t x = 0; x < r; x++) gr[x] = 2 * (pr[x] - t[x]) * scale;
                float rowSum = 0;
                for (int64_t x = 0; x < r; x++) {
                    float d = pr[x] - t[x];
                    rowSum += d * d;
                }
                sse += (double)rowSum;
            }
        }
        for (int64_t y = 0; y < r; y++)
            for (int64_t x = 0; x < r; x++) transmittance[(y + 1) * R + x + 1] = 1;
        losses[w] = sse * (double)scale;
        // Backward, last stroke first; g becomes d loss / d (canvas before the stroke). Leaving stroke i out changes
        // the canvas after it by δ = under·α − lit and the final canvas by T·δ (T: transmittance of the later
        // strokes), so the loss by Σ g·δ + scale·T²·δ², exactly (compositing is affine in the canvas below).
        for (int64_t i = n - 1; i >= 0; i--) {
            int64_t k = w * n + i;
            box b = bx[i];
            removal[k] = 0;
            for (int j = 0; j < 5; j++) d_shapes[k * 5 + j] = 0;
            for (int j = 0; j < 3; j++) d_colors[k * 3 + j] = 0;
            if (!drawn[k] || b.y0 >= b.y1) continue;
            const float *stroke = strokes + STROKE_PLANES * i * P;
            const float *under = stroke + STROKE_UNDER * P, *s0 = stroke + STROKE_S0 * P, *s1 = stroke + STROKE_S1 * P;
            const float *f0 = stroke + STROKE_F0 * P, *f1 = stroke + STROKE_F1 * P;
            const float c0 = colors[k * 3], c1 = colors[k * 3 + 1], c2 = colors[k * 3 + 2];
            // The filters route into the box's ring too (nothing sampled there: its slopes are zero).
            box ring = ring_of(b, r);
            for (int64_t y = ring.y0; y < ring.y1; y++)
                for (int64_t x = ring.x0; x < ring.x1; x++) ds0[(y + 1) * R + x + 1] = 0, ds1[(y + 1) * R + x + 1] = 0;
            float dc0 = 0, dc1 = 0, dc2 = 0, change = 0;
            for (int64_t y = b.y0; y < b.y1; y++) {
                int64_t o = (y + 1) * R + 1;
                int64_t m = b.x1 - b.x0;
#pragma clang loop vectorize(assume_safety)
                for (int64_t j = 0; j < m; j++) {
                    int64_t p = o + b.x0 + j;
                    float f = f0[p], alpha = f1[p], keep = 1 - alpha;
                    float g0 = g[p], g1 = g[P + p], g2 = g[2 * P + p];
                    float u0 = under[p], u1 = under[P + p], u2 = under[2 * P + p];
                    float v0 = c0 * f, v1 = c1 * f, v2 = c2 * f;
                    // A channel clipped at 1 passes nothing to its colour or the dilation (ties count as unclipped,
                    // as the engine's minimum sends them to its first operand).
                    float e0 = v0 > 1 ? 0 : g0 * alpha, e1 = v1 > 1 ? 0 : g1 * alpha, e2 = v2 > 1 ? 0 : g2 * alpha;
                    color0[j] = e0 * f; color1[j] = e1 * f; color2[j] = e2 * f;
                    float l0 = fminf(v0, 1), l1 = fminf(v1, 1), l2 = fminf(v2, 1);
                    // α = 0 sends nothing through the dilation (−0: x + −0 is x for every x, as if nothing were
                    // added); the erosion's share still counts (its source can have a one-sided slope where a sample
                    // lands exactly on a texel edge).
                    add0[j] = alpha != 0 ? e0 * c0 + e1 * c1 + e2 * c2 : -0.0f;
                    add1[j] = g0 * (l0 - u0) + g1 * (l1 - u1) + g2 * (l2 - u2);
                    src0[j] = source_of(s0, f, (int32_t)p, (int32_t)R);
                    src1[j] = source_of(s1, alpha, (int32_t)p, (int32_t)R);
                    float d0 = u0 * alpha - l0 * alpha, d1 = u1 * alpha - l1 * alpha, d2 = u2 * alpha - l2 * alpha;
                    float t = transmittance[p];
                    changes[j] = (g0 * d0 + g1 * d1 + g2 * d2) + scale * t * t * (d0 * d0 + d1 * d1 + d2 * d2);
                    transmittance[p] = t * keep;
                    g[p] = g0 * keep; g[P + p] = g1 * keep; g[2 * P + p] = g2 * keep;
                }
                for (int64_t j = 0; j < m; j++) {
                    dc0 += color0[j]; dc1 += color1[j]; dc2 += color2[j];
                    ds0[src0[j]] += add0[j];
                    ds1[src1[j]] += add1[j];
                    change += changes[j];
                }
            }
            removal[k] = change;
            d_colors[k * 3] = dc0; d_colors[k * 3 + 1] = dc1; d_colors[k * 3 + 2] = dc2;
            // d loss / d grid → d loss / d (a00 … a12), the grid being A·(u, v, 1).
            const float *sx0 = stroke + STROKE_SX0 * P, *sx1 = stroke + STROKE_SX1 * P;
            const float *sy0 = stroke + STROKE_SY0 * P, *sy1 = stroke + STROKE_SY1 * P;
            float g00 = 0, g01 = 0, g02 = 0, g10 = 0, g11 = 0, g12 = 0;
            float *restrict grid_x = add0, *restrict grid_y = add1; // the routing's row buffers are free now
            for (int64_t y = b.y0; y < b.y1; y++) {
                int64_t o = (y + 1) * R + 1 + b.x0, m = b.x1 - b.x0;
                float v = coordinates[y];
#pragma clang loop vectorize(assume_safety)
                for (int64_t j = 0; j < m; j++) {
                    grid_x[j] = ds0[o + j] * sx0[o + j] + ds1[o + j] * sx1[o + j];
                    grid_y[j] = ds0[o + j] * sy0[o + j] + ds1[o + j] * sy1[o + j];
                }
                for (int64_t j = 0; j < m; j++) {
                    float u = coordinates[b.x0 + j], gx = grid_x[j], gy = grid_y[j];
                    g00 += gx * u; g10 += gy * u; g01 += gx * v; g11 += gy * v; g02 += gx; g12 += gy;
                }
            }
            affine a = affine_of(shapes + k * 5);
            float x = shapes[k * 5], y = shapes[k * 5 + 1], sw = shapes[k * 5 + 2], sh = shapes[k * 5 + 3];
            // a02 and a12 depend on a00, a01, a10, a11: total derivatives first.
            float d00 = g00 + g02 * (1 - 2 * x), d01 = g01 + g02 * (1 - 2 * y);
            float d10 = g10 + g12 * (1 - 2 * x), d11 = g11 + g12 * (1 - 2 * y);
            d_shapes[k * 5] = -2 * (g02 * a.a00 + g12 * a.a10);
            d_shapes[k * 5 + 1] = -2 * (g02 * a.a01 + g12 * a.a11);
            d_shapes[k * 5 + 2] = -(a.c * d00 + a.s * d01) / (sw * sw);
            d_shapes[k * 5 + 3] = (a.s * d10 - a.c * d11) / (sh * sh);
            d_shapes[k * 5 + 4] = swift_float_pi * ((-a.s * d00 + a.c * d01) / sw + (-a.c * d10 - a.s * d11) / sh);
        }
    }
}

// Least-squares colours (StrokeRefiner's colour fit): each stroke's colour c minimising its own squared error where
// it stays visible, c = Σ T·α·b·(target − old·(1 − α)) / Σ T·(α·b)² per channel, T the share the window's later
// strokes leave uncovered. Sums run in pixel order inside each stroke's box (outside it α·b is 0 and adds nothing),
// so the result is the Swift loop's over the whole window, bitwise.
CK_INLINE void fit_colors_body(float *fitted, const float *targets, const float *canvases, const float *shapes,
                               const float *colors, const bool *drawn, const bool *vertical,
                               const float *vertical_texels, int64_t vertical_width, int64_t vertical_height,
                               const float *horizontal_texels, int64_t horizontal_width, int64_t horizontal_height,
                               int64_t n, int64_t r, float ceiling, float *scratch, int64_t first, int64_t end) {
    layout l = layout_of(n, r);
    const int64_t R = l.stride, P = l.plane, area = r * r;
    float *restrict visible = scratch + SHARED_TRANSMITTANCE * P;
    float *row0 = scratch + SHARED_ROW0 * P, *row1 = scratch + SHARED_ROW1 * P;
    float *strokes = scratch + SHARED_PLANES * P;
    const float *coordinates = scratch + (SHARED_PLANES + STROKE_PLANES * n) * P;
    box *bx = (box *)(coordinates + (1 + ROW_BUFFERS) * row_floats(r));

    for (int64_t w = first; w < end; w++) {
        const float *target = targets + w * 3 * area, *old = canvases + w * 3 * area;
        for (int64_t i = 0; i < n; i++) {
            int64_t k = w * n + i;
            for (int j = 0; j < 3; j++) fitted[k * 3 + j] = colors[k * 3 + j];
            bx[i] = (box){0, 0, 0, 0};
            if (!drawn[k]) continue;
            bx[i] = place_stroke(strokes + STROKE_PLANES * i * P, row0, row1, coordinates, shapes + k * 5, vertical[k],
                                 vertical_texels, vertical_width, vertical_height, horizontal_texels, horizontal_width,
                                 horizontal_height, l);
        }
        for (int64_t y = 0; y < r; y++)
            for (int64_t x = 0; x < r; x++) visible[(y + 1) * R + x + 1] = 1;
        for (int64_t i = n - 1; i >= 0; i--) {
            int64_t k = w * n + i;
            box b = bx[i];
            if (!drawn[k] || b.y0 >= b.y1) continue;
            const float *f0 = strokes + (STROKE_PLANES * i + STROKE_F0) * P, *f1 = strokes + (STROKE_PLANES * i + STROKE_F1) * P;
            float n0 = 0, n1 = 0, n2 = 0, denominator = 0;
            for (int64_t y = b.y0; y < b.y1; y++) {
                for (int64_t x = b.x0; x < b.x1; x++) {
                    int64_t p = (y + 1) * R + x + 1, q = y * r + x;
                    float coverage = f1[p], ab = coverage * f0[p], v = visible[p];
                    visible[p] = v * (1 - coverage);
                    if (!(ab > 0) || !(v > 0)) continue;
                    float weight = v * ab, keep = 1 - coverage;
                    n0 += weight * (target[q] - old[q] * keep);
                    n1 += weight * (target[area + q] - old[area + q] * keep);
                    n2 += weight * (target[2 * area + q] - old[2 * area + q] * keep);
                    denominator += weight * ab;
                }
            }
            if (denominator > 1e-6f) {
                float c[3] = {n0 / denominator, n1 / denominator, n2 / denominator};
                for (int j = 0; j < 3; j++) fitted[k * 3 + j] = fminf(fmaxf(c[j], 0), ceiling);
            }
        }
    }
}

CK_INSTANTIATE(fit_colors,
               (float *fitted, const float *targets, const float *canvases, const float *shapes, const float *colors,
                const bool *drawn, const bool *vertical, const float *vertical_texels, int64_t vertical_width,
                int64_t vertical_height, const float *horizontal_texels, int64_t horizontal_width,
                int64_t horizontal_height, int64_t n, int64_t r, float ceiling, float *scratch, int64_t first,
                int64_t end),
               (fitted, targets, canvases, shapes, colors, drawn, vertical, vertical_texels, vertical_width,
                vertical_height, horizontal_texels, horizontal_width, horizontal_height, n, r, ceiling, scratch, first,
                end))

void ck_refinement_fit_colors_f32(float *fitted, const float *targets, const float *canvases, const float *shapes,
                                  const float *colors, const bool *drawn, const bool *vertical,
                                  const float *vertical_texels, int64_t vertical_width, int64_t vertical_height,
                                  const float *horizontal_texels, int64_t horizontal_width, int64_t horizontal_height,
                                  int64_t n, int64_t r, float ceiling, float *scratch, int64_t first, int64_t end) {
    CK_LEVELS(fit_colors,
              (fitted, targets, canvases, shapes, colors, drawn, vertical, vertical_texels, vertical_width,
               vertical_height, horizontal_texels, horizontal_width, horizontal_height, n, r, ceiling, scratch, first,
               end))
}

CK_INSTANTIATE(refinement_windows,
               (double *losses, float *d_shapes, float *d_colors, float *removal, const float *targets,
                const float *canvases, const float *shapes, const float *colors, const bool *drawn, const bool *vertical,
                const float *vertical_texels, int64_t vertical_width, int64_t vertical_height,
                const float *horizontal_texels, int64_t horizontal_width, int64_t horizontal_height, int64_t n,
                int64_t r, float *scratch, int64_t first, int64_t end),
               (losses, d_shapes, d_colors, removal, targets, canvases, shapes, colors, drawn, vertical, vertical_texels,
                vertical_width, vertical_height, horizontal_texels, horizontal_width, horizontal_height, n, r, scratch,
                first, end))

void ck_refinement_loss_f32(double *losses, float *d_shapes, float *d_colors, float *removal, const float *targets,
                            const float *canvases, const float *shapes, const float *colors, const bool *drawn,
                            const bool *vertical, const float *vertical_texels, int64_t vertical_width,
                            int64_t vertical_height, const float *horizontal_texels, int64_t horizontal_width,
                            int64_t horizontal_height, int64_t n, int64_t r, float *scratch, int64_t first,
                            int64_t end) {
    CK_LEVELS(refinement_windows,
              (losses, d_shapes, d_colors, removal, targets, canvases, shapes, colors, drawn, vertical, vertical_texels,
               vertical_width, vertical_height, horizontal_texels, horizontal_width, horizontal_height, n, r, scratch,
               first, end))
}
