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
} axis;

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

/*
 * Resamples `src` (in_width × in_height RGBA, straight alpha) to `dst` (out_width × out_height):
 * horizontally into a ring of v->taps rows, each source row once, then vertically; premultiplied
 * in between so transparent pixels do not bleed colour, unpremultiplied at the end. Rounds half to
 * even and clamps to 0..255, as a Uint8ClampedArray store does.
 *
 * Scratch at `scratch`: in_width f32x4 (the premultiplied row), v->taps × out_width f32x4 (the
 * ring) and out_width f32x4 (the accumulator), 16-byte aligned.
 */
EXPORT(resample)
void resample(const uint8_t *src, int32_t in_width, int32_t in_height, uint8_t *dst,
              int32_t out_width, int32_t out_height, const int32_t *h_starts,
              const int32_t *h_counts, const float *h_weights, int32_t h_taps,
              const int32_t *v_starts, const int32_t *v_counts, const float *v_weights,
              int32_t v_taps, float *scratch)
{
  const axis h = {h_starts, h_counts, h_weights, h_taps};
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
      premultiply_row(src + 4 * (int64_t)done * in_width, in_width, pm);
      convolve_row(pm, &h, out_width, ring + 4 * (int64_t)(done % v_taps) * out_width);
    }
    const float *w = v_weights + (int64_t)y * v_taps;
    for (int32_t x = 0; x < out_width; x++) wasm_v128_store(acc + 4 * x, zero);
    for (int32_t k = 0; k < count; k++) {
      const float *row = ring + 4 * (int64_t)((first + k) % v_taps) * out_width;
      const v128_t wk = wasm_f32x4_splat(w[k]);
      for (int32_t x = 0; x < out_width; x++) {
        v128_t a = wasm_v128_load(acc + 4 * x);
        wasm_v128_store(acc + 4 * x, wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(row + 4 * x), wk)));
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
