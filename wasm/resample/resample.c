/*
 * Pictor's separable resampler: the convolution half of src/core/imaging/kernels/resample.ts,
 * in C for wasm32 with 128-bit SIMD. One RGBA pixel is one f32x4, so every tap of every pixel is
 * one multiply-add across its four channels; the weights (any filter: lanczos3, Mitchell,
 * Catmull-Rom, triangle) are computed by the TypeScript side and passed in.
 *
 * Why it exists: jSquash's resizer (Rust, wasm-bindgen) took ~57 ms to bring a 960×600 photo to
 * 800×500 and keeps its peak memory for good; this does it in a few ms and holds, besides the
 * input and output, a ring of as many horizontally resampled rows as the vertical filter has
 * taps.
 *
 * Also libvips' integer box shrink that comes before it (box_shrink, at the end).
 *
 * No libc, no imports: the caller lays the buffers out in the exported memory (growing it) and
 * passes their offsets.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* Axis weights as resample.ts's contributions() makes them: for output position o, source
 * indices starts[o] .. starts[o] + counts[o] - 1 with weights[o * taps + k]. */
typedef struct {
  const int32_t *starts;
  const int32_t *counts;
  const float *weights;
  int32_t taps;
  /* The same weights in 16-bit fixed point (sum 1 << FIXED_BITS), a pair of taps per i16x8
   * (w0 w1 w0 w1 w0 w1 w0 w1), (taps + 1) / 2 pairs per output position. */
  const v128_t *fixed;
} axis;

/* libvips' reduceh keeps uchar pixels and integer weights for the same reason: on an opaque row
 * there is nothing to premultiply, and one i32x4 dot product of 16-bit lanes takes two taps of a
 * pixel's four channels at once. */
#define FIXED_BITS 14

static inline v128_t load_pixel(const uint8_t *p)
{
  /* Four bytes → four floats: zero-extend u8 → u16 → u32, then convert. */
  v128_t v = wasm_v128_load32_zero(p);
  v = wasm_u16x8_extend_low_u8x16(v);
  v = wasm_u32x4_extend_low_u16x8(v);
  return wasm_f32x4_convert_i32x4(v);
}

/* One source row, premultiplied (r·a/255, g·a/255, b·a/255, a), into `pm` (width f32x4). */
static void premultiply_row(const uint8_t *src, int32_t width, float *pm)
{
  const v128_t inv255 = wasm_f32x4_splat(1.0f / 255.0f);
  for (int32_t x = 0; x < width; x++) {
    v128_t p = load_pixel(src + 4 * x);
    v128_t a = wasm_i32x4_shuffle(p, p, 3, 3, 3, 3);
    v128_t f = wasm_f32x4_mul(a, inv255);
    /* alpha keeps its own value: multiply it by 1 */
    f = wasm_i32x4_replace_lane(f, 3, 0x3f800000);
    wasm_v128_store(pm + 4 * x, wasm_f32x4_mul(p, f));
  }
}

/* Horizontal pass of one premultiplied row into `out` (out_width f32x4). */
static void convolve_row(const float *pm, const axis *h, int32_t out_width, float *out)
{
  for (int32_t x = 0; x < out_width; x++) {
    const float *w = h->weights + (int64_t)x * h->taps;
    const float *s = pm + 4 * h->starts[x];
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int32_t k = 0, n = h->counts[x]; k < n; k++) {
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(s + 4 * k), wasm_f32x4_splat(w[k])));
    }
    wasm_v128_store(out + 4 * x, acc);
  }
}

/* Whether every pixel of the row has alpha 255, so premultiplying would change nothing. */
static int row_opaque(const uint8_t *src, int32_t width)
{
  const v128_t alpha = wasm_i32x4_splat((int32_t)0xff000000);
  v128_t all = alpha;
  int32_t x = 0;
  for (; x + 4 <= width; x += 4) all = wasm_v128_and(all, wasm_v128_load(src + 4 * x));
  for (; x < width; x++) all = wasm_v128_and(all, wasm_v128_load32_splat(src + 4 * x));
  return wasm_i32x4_all_true(wasm_i32x4_eq(all, alpha));
}

/* Horizontal pass of an opaque row straight from its bytes, in fixed point: (r0 r1 g0 g1 b0 b1
 * a0 a1) · (w0 w1 …) per pair of taps. A last odd tap reads one pixel past its span (still inside
 * the source buffer or the output after it) with weight 0. */
static void convolve_row_fixed(const uint8_t *src, const axis *h, int32_t out_width, float *out)
{
  const int32_t pairs = (h->taps + 1) / 2;
  const v128_t unit = wasm_f32x4_splat(1.0f / (1 << FIXED_BITS));
  for (int32_t x = 0; x < out_width; x++) {
    const v128_t *w = h->fixed + (int64_t)x * pairs;
    const uint8_t *s = src + 4 * h->starts[x];
    const int32_t n = h->counts[x];
    v128_t acc = wasm_i32x4_splat(0);
    int32_t k = 0;
    for (; k + 4 <= n; k += 4, w += 2) {
      v128_t p = wasm_v128_load(s + 4 * k);
      p = wasm_i8x16_shuffle(p, p, 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(p), w[0]));
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(p), w[1]));
    }
    for (; k < n; k += 2, w++) {
      v128_t p = wasm_v128_load64_zero(s + 4 * k);
      p = wasm_i8x16_shuffle(p, p, 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(p), w[0]));
    }
    wasm_v128_store(out + 4 * x, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), unit));
  }
}

/*
 * Resamples `src` (in_width × in_height RGBA, straight alpha) to `dst` (out_width × out_height):
 * horizontally into a ring of v->taps rows, each source row once, then vertically; premultiplied
 * in between so transparent pixels do not bleed colour, unpremultiplied at the end. Rounds half to
 * even and clamps to 0..255, as a Uint8ClampedArray store does.
 *
 * Opaque rows skip the premultiplication and take the fixed-point horizontal pass (`h_fixed`).
 *
 * Scratch at `scratch`: in_width f32x4 (the premultiplied row), v->taps × out_width f32x4 (the
 * ring) and out_width f32x4 (the accumulator), 16-byte aligned.
 */
EXPORT(resample)
void resample(const uint8_t *src, int32_t in_width, int32_t in_height, uint8_t *dst,
              int32_t out_width, int32_t out_height, const int32_t *h_starts,
              const int32_t *h_counts, const float *h_weights, int32_t h_taps,
              const v128_t *h_fixed, const int32_t *v_starts, const int32_t *v_counts,
              const float *v_weights, int32_t v_taps, float *scratch)
{
  const axis h = {h_starts, h_counts, h_weights, h_taps, h_fixed};
  float *pm = scratch;
  float *ring = pm + 4 * (int64_t)in_width;
  float *acc = ring + 4 * (int64_t)v_taps * out_width;
  int32_t done = 0; /* source rows resampled horizontally so far */
  (void)in_height;

  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t max = wasm_f32x4_splat(255.0f);
  for (int32_t y = 0; y < out_height; y++) {
    const int32_t first = v_starts[y], count = v_counts[y];
    /* The source rows this output row needs, each resampled once: starts never decrease and a
     * row's span is at most v_taps, so a ring of v_taps rows always holds them. */
    for (; done < first + count; done++) {
      const uint8_t *row = src + 4 * (int64_t)done * in_width;
      float *into = ring + 4 * (int64_t)(done % v_taps) * out_width;
      if (row_opaque(row, in_width)) {
        convolve_row_fixed(row, &h, out_width, into);
      } else {
        premultiply_row(row, in_width, pm);
        convolve_row(pm, &h, out_width, into);
      }
    }
    /* Vertical pass four taps at a time, so the accumulator row is read and written once per
     * four ring rows rather than once per row (a missing tap weighs 0). */
    const float *w = v_weights + (int64_t)y * v_taps;
    for (int32_t k = 0; k < count; k += 4) {
      const float *r[4];
      v128_t wk[4];
      for (int32_t j = 0; j < 4; j++) {
        const int32_t i = k + j < count ? k + j : k;
        r[j] = ring + 4 * (int64_t)((first + i) % v_taps) * out_width;
        wk[j] = k + j < count ? wasm_f32x4_splat(w[k + j]) : zero;
      }
      for (int32_t x = 0; x < out_width; x++) {
        v128_t a = k == 0 ? zero : wasm_v128_load(acc + 4 * x);
        a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(r[0] + 4 * x), wk[0]));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(r[1] + 4 * x), wk[1]));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(r[2] + 4 * x), wk[2]));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(r[3] + 4 * x), wk[3]));
        wasm_v128_store(acc + 4 * x, a);
      }
    }
    uint8_t *out = dst + 4 * (int64_t)y * out_width;
    for (int32_t x = 0; x < out_width; x++) {
      v128_t p = wasm_v128_load(acc + 4 * x);
      /* Unpremultiply: colour × 255 / alpha, alpha clamped first (the filters overshoot). */
      float alpha = wasm_f32x4_extract_lane(p, 3);
      alpha = alpha < 0.0f ? 0.0f : alpha > 255.0f ? 255.0f : alpha;
      const float scale = alpha > 0.0f ? 255.0f / alpha : 0.0f;
      p = wasm_f32x4_mul(p, wasm_f32x4_make(scale, scale, scale, 0.0f));
      p = wasm_f32x4_replace_lane(p, 3, alpha);
      p = wasm_f32x4_nearest(wasm_f32x4_pmax(zero, wasm_f32x4_pmin(max, p)));
      v128_t i = wasm_i32x4_trunc_sat_f32x4(p);
      i = wasm_u16x8_narrow_i32x4(i, i);
      i = wasm_u8x16_narrow_i16x8(i, i);
      wasm_v128_store32_lane(out + 4 * x, i, 0);
    }
  }
}

/* Largest block whose premultiplied sums (at most 255 × 255 per pixel) fit 32 bits. */
#define U32_BLOCK_PIXELS 66051

static inline void shrink_store(uint8_t *out, uint64_t r, uint64_t g, uint64_t b, uint64_t a,
                                uint64_t n)
{
  /* s / a rounded half up is floor((2s + a) / 2a); a block with no opacity is transparent
   * black; alpha is the plain mean, rounded half up likewise. */
  if (a == 0) {
    out[0] = out[1] = out[2] = out[3] = 0;
    return;
  }
  out[0] = (uint8_t)((2 * r + a) / (2 * a));
  out[1] = (uint8_t)((2 * g + a) / (2 * a));
  out[2] = (uint8_t)((2 * b + a) / (2 * a));
  out[3] = (uint8_t)((2 * a + n) / (2 * n));
}

/*
 * libvips' integer box shrink, as src/core/imaging/kernels/shrink.ts describes it: each output
 * pixel the alpha-weighted mean of an fx × fy block (premultiply, sum, unpremultiply), the right
 * columns and bottom rows that do not fill a block dropped, exact integer arithmetic. Sums of a
 * row of output pixels are kept at `acc` (out_width × 32 bytes): as u32x4 per pixel, or as four
 * u64 for blocks too large for 32 bits.
 */
EXPORT(box_shrink)
void box_shrink(const uint8_t *src, int32_t width, int32_t fx, int32_t fy, uint8_t *dst,
                int32_t out_width, int32_t out_height, void *acc)
{
  const uint64_t n = (uint64_t)fx * fy;
  const v128_t lane3 = wasm_i32x4_make(0, 0, 0, -1);
  for (int32_t oy = 0; oy < out_height; oy++) {
    uint8_t *out = dst + 4 * (int64_t)oy * out_width;
    if (n <= U32_BLOCK_PIXELS) {
      v128_t *sums = acc;
      for (int32_t x = 0; x < out_width; x++) sums[x] = wasm_i32x4_splat(0);
      for (int32_t sy = oy * fy; sy < (oy + 1) * fy; sy++) {
        const uint8_t *row = src + 4 * (int64_t)sy * width;
        for (int32_t x = 0; x < out_width; x++) {
          const uint8_t *s = row + 4 * (int64_t)x * fx;
          v128_t sum = sums[x];
          for (int32_t i = 0; i < fx; i++) {
            v128_t p = wasm_v128_load32_zero(s + 4 * i);
            p = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(p));
            /* (r·a, g·a, b·a, a) */
            v128_t m = wasm_i32x4_mul(p, wasm_i32x4_shuffle(p, p, 3, 3, 3, 3));
            sum = wasm_i32x4_add(sum, wasm_v128_bitselect(p, m, lane3));
          }
          sums[x] = sum;
        }
      }
      for (int32_t x = 0; x < out_width; x++) {
        shrink_store(out + 4 * x, wasm_u32x4_extract_lane(sums[x], 0),
                     wasm_u32x4_extract_lane(sums[x], 1), wasm_u32x4_extract_lane(sums[x], 2),
                     wasm_u32x4_extract_lane(sums[x], 3), n);
      }
    } else {
      uint64_t *sums = acc;
      for (int32_t i = 0; i < 4 * out_width; i++) sums[i] = 0;
      for (int32_t sy = oy * fy; sy < (oy + 1) * fy; sy++) {
        const uint8_t *row = src + 4 * (int64_t)sy * width;
        for (int32_t x = 0; x < out_width; x++) {
          const uint8_t *s = row + 4 * (int64_t)x * fx;
          uint64_t *sum = sums + 4 * x;
          for (int32_t i = 0; i < fx; i++, s += 4) {
            sum[0] += (uint32_t)s[0] * s[3];
            sum[1] += (uint32_t)s[1] * s[3];
            sum[2] += (uint32_t)s[2] * s[3];
            sum[3] += s[3];
          }
        }
      }
      for (int32_t x = 0; x < out_width; x++) {
        const uint64_t *sum = sums + 4 * x;
        shrink_store(out + 4 * x, sum[0], sum[1], sum[2], sum[3], n);
      }
    }
  }
}
