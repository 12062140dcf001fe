/*
 * Pictor's WebP decoder: libwebp's decoder behind two exports, for a standalone wasm32 module
 * with no imports.
 *
 * Why it exists: libwebp can scale while it converts rows to RGBA
 * (WebPDecoderConfig.options.use_scaling), so a thumbnail of a 16 MP WebP never
 * materialises 16 MP of RGBA, nor hands them to a separate resampler; jSquash's build does not
 * expose it. The VP8 macroblocks are still all decoded (VP8 has no reduced IDCT), but
 * only a few rows of them live at a time.
 *
 * libwebp reports failures as status codes (no longjmp), so no import is needed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "src/webp/decode.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* The status pw_decode reports for a canvas past max_pixels (VP8StatusCode stops at 7). */
#define PW_TOO_LARGE 107

static uint8_t *pixels; /* decoded RGBA, owned until pw_release_pixels */

/* What pw_decode reports: pointer, width, height, VP8StatusCode. */
static int32_t result[4];

EXPORT(pw_malloc) void *pw_malloc(size_t size) { return malloc(size); }
EXPORT(pw_free) void pw_free(void *p) { free(p); }

EXPORT(pw_release_pixels) void pw_release_pixels(void)
{
  free(pixels);
  pixels = NULL;
}

/*
 * Decodes `len` bytes at `input` to non-premultiplied RGBA, scaled to `scaled_width` ×
 * `scaled_height` (0 × 0: not scaled). Refuses a canvas of more than
 * `max_pixels` pixels before allocating for it. Returns a pointer to [pixels, width, height,
 * status]; status 0 is success, and the pixels stay allocated until pw_release_pixels().
 */
EXPORT(pw_decode)
int32_t *pw_decode(const uint8_t *input, uint32_t len, int scaled_width, int scaled_height,
                   uint32_t max_pixels)
{
  WebPDecoderConfig config;
  pw_release_pixels();
  result[0] = result[1] = result[2] = 0;
  result[3] = VP8_STATUS_INVALID_PARAM;
  if (!WebPInitDecoderConfig(&config)) return result;
  VP8StatusCode status = WebPGetFeatures(input, len, &config.input);
  result[3] = status;
  if (status != VP8_STATUS_OK) return result;
  if ((uint64_t)config.input.width * config.input.height > max_pixels) {
    result[3] = VP8_STATUS_NOT_ENOUGH_DATA + 100; /* refused: too large */
    return result;
  }
  int width = config.input.width, height = config.input.height;
  if (scaled_width > 0 && scaled_height > 0) {
    config.options.use_scaling = 1;
    config.options.scaled_width = scaled_width;
    config.options.scaled_height = scaled_height;
    width = scaled_width;
    height = scaled_height;
  }
  size_t size = (size_t)width * height * 4;
  if ((uint64_t)width * height * 4 > 0x7fffffff || !(pixels = malloc(size))) {
    result[3] = VP8_STATUS_OUT_OF_MEMORY;
    return result;
  }
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = pixels;
  config.output.u.RGBA.stride = width * 4;
  config.output.u.RGBA.size = size;
  status = WebPDecode(input, len, &config);
  WebPFreeDecBuffer(&config.output);
  result[3] = status;
  if (status != VP8_STATUS_OK) {
    pw_release_pixels();
    return result;
  }
  result[0] = (int32_t)(uintptr_t)pixels;
  result[1] = width;
  result[2] = height;
  return result;
}
