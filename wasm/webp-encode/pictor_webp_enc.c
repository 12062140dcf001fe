/*
 * Pictor's WebP encoder: libwebp's encoder behind four exports, for a standalone wasm32 module
 * with no imports.
 *
 * Why it exists: jSquash's WebP encoder (the same libwebp, built with Emscripten) took ~960 ms for
 * a 9 MP photo, ~1.6× sharp's native libwebp. Two things were in the way: its glue copies the RGBA
 * into the module byte by byte in JavaScript and again into a std::string (~80 ms), and libwebp's
 * SSE2 inverse transform, through Emscripten's SSE2 headers, spent a quarter of the time in
 * emulated 16-bit multiplies. Here the caller writes the pixels once, and the inverse transform is
 * wasm SIMD written for it (below), giving the same bytes as libwebp's C.
 *
 * libwebp reports failures as error codes (no longjmp), so no import is needed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <wasm_simd128.h>

#include "src/dsp/dsp.h"
#include "src/webp/encode.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * libwebp's ITransform (src/dsp/enc.c: the 4×4 inverse transform of the encoder's mode search and
 * reconstruction, called for every trial of every block), the C's 32-bit arithmetic four lanes at
 * a time: the vertical pass on the four columns, a transpose, the horizontal pass on the four
 * rows, a transpose back, then ref + (v >> 3) clamped to 0..255 by saturating narrows.
 */
#define BPS 32 /* libwebp's work-buffer stride */

static const int kC1 = 20091 + (1 << 16);
static const int kC2 = 35468;

#define MUL(v, k) wasm_i32x4_shr(wasm_i32x4_mul((v), wasm_i32x4_splat(k)), 16)

static inline v128_t load4(const int16_t *p)
{
  return wasm_i32x4_extend_low_i16x8(wasm_v128_load64_zero(p));
}

static inline void transpose4(v128_t r[4])
{
  const v128_t a = wasm_i32x4_shuffle(r[0], r[1], 0, 4, 1, 5);
  const v128_t b = wasm_i32x4_shuffle(r[0], r[1], 2, 6, 3, 7);
  const v128_t c = wasm_i32x4_shuffle(r[2], r[3], 0, 4, 1, 5);
  const v128_t d = wasm_i32x4_shuffle(r[2], r[3], 2, 6, 3, 7);
  r[0] = wasm_i32x4_shuffle(a, c, 0, 1, 4, 5);
  r[1] = wasm_i32x4_shuffle(a, c, 2, 3, 6, 7);
  r[2] = wasm_i32x4_shuffle(b, d, 0, 1, 4, 5);
  r[3] = wasm_i32x4_shuffle(b, d, 2, 3, 6, 7);
}

/* One butterfly: x0, x4, x8, x12 in, out[0..3] = a + d, b + c, b − c, a − d. */
static inline void butterfly(v128_t x0, v128_t x4, v128_t x8, v128_t x12, v128_t out[4])
{
  const v128_t a = wasm_i32x4_add(x0, x8), b = wasm_i32x4_sub(x0, x8);
  const v128_t c = wasm_i32x4_sub(MUL(x4, kC2), MUL(x12, kC1));
  const v128_t d = wasm_i32x4_add(MUL(x4, kC1), MUL(x12, kC2));
  out[0] = wasm_i32x4_add(a, d);
  out[1] = wasm_i32x4_add(b, c);
  out[2] = wasm_i32x4_sub(b, c);
  out[3] = wasm_i32x4_sub(a, d);
}

static void ITransformOne(const uint8_t *ref, const int16_t *in, uint8_t *dst)
{
  v128_t t[4], o[4];
  butterfly(load4(in), load4(in + 4), load4(in + 8), load4(in + 12), t);
  transpose4(t);
  butterfly(wasm_i32x4_add(t[0], wasm_i32x4_splat(4)), t[1], t[2], t[3], o);
  transpose4(o);
  for (int y = 0; y < 4; y++) {
    const v128_t r = wasm_u32x4_extend_low_u16x8(
      wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(ref + y * BPS)));
    v128_t v = wasm_i32x4_add(r, wasm_i32x4_shr(o[y], 3));
    v = wasm_i16x8_narrow_i32x4(v, v);
    wasm_v128_store32_lane(dst + y * BPS, wasm_u8x16_narrow_i16x8(v, v), 0);
  }
}

static void ITransform(const uint8_t *ref, const int16_t *in, uint8_t *dst, int do_two)
{
  ITransformOne(ref, in, dst);
  if (do_two) ITransformOne(ref + 4, in + 16, dst + 4);
}

/* What pe_encode reports: pointer to the file, its length, libwebp's WebPEncodingError. */
static int32_t result[3];
static WebPMemoryWriter writer;

EXPORT(pe_malloc) void *pe_malloc(size_t size) { return malloc(size); }
EXPORT(pe_free) void pe_free(void *p) { free(p); }

EXPORT(pe_release_output) void pe_release_output(void)
{
  WebPMemoryWriterClear(&writer);
}

/*
 * Encodes `width` × `height` RGBA at `rgba` (non-premultiplied, rows of width × 4 bytes) with
 * libwebp's defaults (method 4, as sharp's effort 4) at `quality` (lossy: 0–100; lossless: the
 * effort), lossless or not, `exact` keeping RGB under transparent pixels. Returns a pointer to
 * [file, length, error]; error 0 is success, and the file stays allocated until
 * pe_release_output().
 */
EXPORT(pe_encode)
int32_t *pe_encode(const uint8_t *rgba, int width, int height, float quality, int lossless,
                   int exact)
{
  static int dsp_ready;
  if (!dsp_ready) {
    /* libwebp picks its SSE2/SSE4.1 functions once; ours then takes the inverse transform. */
    VP8EncDspInit();
    VP8ITransform = ITransform;
    dsp_ready = 1;
  }
  WebPConfig config;
  WebPPicture picture;
  pe_release_output();
  result[0] = result[1] = 0;
  result[2] = VP8_ENC_ERROR_INVALID_CONFIGURATION;
  if (!WebPConfigInit(&config) || !WebPPictureInit(&picture)) return result;
  config.quality = quality;
  config.lossless = lossless;
  config.exact = exact;
  picture.use_argb = lossless;
  picture.width = width;
  picture.height = height;
  if (!WebPPictureImportRGBA(&picture, rgba, width * 4)) {
    result[2] = picture.error_code;
    WebPPictureFree(&picture);
    return result;
  }
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  const int ok = WebPEncode(&config, &picture);
  result[2] = ok ? VP8_ENC_OK : picture.error_code;
  WebPPictureFree(&picture);
  if (ok) {
    result[0] = (int32_t)(uintptr_t)writer.mem;
    result[1] = (int32_t)writer.size;
  }
  return result;
}
