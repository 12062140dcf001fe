/*
 * The inflating and unfiltering half of Pictor's PNG decoder (src/core/formats/png-stream.ts
 * reads the chunks and converts the scanlines to RGBA): zlib's inflate and the five PNG filters,
 * compiled to wasm32, fed the IDAT chunks as they come and asked for a band of scanlines at a
 * time, so that its memory holds a scanline or two and the band, never the image.
 *
 * Why it exists: the runtime's DecompressionStream inflated a 9 MP RGBA PNG's 36 MB in 60–150 ms
 * (a fresh 49 KB array per chunk, a promise per read) and the JavaScript filters took 30–50 ms
 * more; here both run over memory that stays put.
 *
 * One stream at a time: pp_begin starts one, pp_pass gives each pass's scanline length (one pass
 * unless Adam7), pp_input the next compressed bytes, pp_rows the scanlines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "zlib.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* pp_rows' refusals. */
#define PP_CORRUPT -1        /* zlib refused the data */
#define PP_NO_MEMORY -3
#define PP_UNKNOWN_FILTER -256 /* minus the type: a scanline's filter type is not 0–4 */

static z_stream zs;
static int started;
static int ended;     /* the zlib stream reached its end */
static uint8_t *raw;  /* inflated scanlines, each its filter type and `stride` bytes */
static uint32_t raw_bytes, raw_filled;
static uint8_t *prev; /* the scanline before, unfiltered; zeros before a pass's first */
static uint32_t stride, bpp;

EXPORT(pp_malloc) void *pp_malloc(uint32_t bytes) { return malloc(bytes); }
EXPORT(pp_free) void pp_free(void *at) { free(at); }

/* Ends the stream, if one is open, and frees its buffers. */
EXPORT(pp_end) void pp_end(void)
{
  if (started) inflateEnd(&zs);
  started = 0;
  free(raw);
  free(prev);
  raw = prev = NULL;
}

/* Starts a zlib stream; 0, or zlib's error. */
EXPORT(pp_begin) int pp_begin(void)
{
  pp_end();
  memset(&zs, 0, sizeof zs);
  ended = 0;
  int status = inflateInit(&zs);
  started = status == Z_OK;
  /* No Adler-32 of the inflated bytes (a sixth of the inflating time): a corrupt stream still
   * fails on its codes, and the scanline count bounds what is read, as in libspng's
   * SPNG_CTX_IGNORE_ADLER32. */
  if (started) status = inflateValidate(&zs, 0);
  return status;
}

/*
 * The next pass: scanlines of `row_bytes` bytes, filters reaching `pixel_bytes` back, asked for
 * `band_rows` at a time at most. They are inflated a band at a time into one buffer, so that
 * zlib's fast loop runs over long stretches and finds most matches in that buffer rather than
 * in its window.
 */
EXPORT(pp_pass) int pp_pass(uint32_t row_bytes, uint32_t pixel_bytes, uint32_t band_rows)
{
  free(raw);
  free(prev);
  raw_bytes = band_rows * (row_bytes + 1);
  raw = malloc(raw_bytes);
  prev = calloc(row_bytes, 1);
  if (!raw || !prev) return PP_NO_MEMORY;
  raw_filled = 0;
  stride = row_bytes;
  bpp = pixel_bytes;
  return 0;
}

/* The compressed bytes to inflate next (an IDAT chunk's data), which must stay until used. */
EXPORT(pp_input) void pp_input(const uint8_t *at, uint32_t bytes)
{
  zs.next_in = (Bytef *)at;
  zs.avail_in = bytes;
}

EXPORT(pp_needs_input) int pp_needs_input(void) { return zs.avail_in == 0 && !ended; }
EXPORT(pp_ended) int pp_ended(void) { return ended; }

static inline uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
  int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/*
 * Sub, Average and Paeth for 4 bytes per pixel (8-bit RGBA, the usual photo PNG), a pixel per
 * step in wasm SIMD lanes: each pixel depends on the one to its left, so the four channels are
 * the parallelism there is (libpng's SSE2 filters do the same). Same bytes as the loops below.
 */
static inline v128_t pixel_at(const uint8_t *at) { return wasm_v128_load32_zero(at); }
static inline v128_t widen(v128_t v) { return wasm_u16x8_extend_low_u8x16(v); }

static void unfilter4(int type, const uint8_t *restrict s, const uint8_t *restrict p,
                      uint8_t *restrict d, uint32_t n)
{
  v128_t left = wasm_i32x4_splat(0), upleft = wasm_i32x4_splat(0);
  for (uint32_t i = 0; i + 4 <= n; i += 4) {
    const v128_t x = pixel_at(s + i);
    v128_t out;
    if (type == 1) {
      out = wasm_i8x16_add(x, left);
    } else if (type == 3) {
      /* floor((left + up) / 2): the rounding-up average less the odd bit */
      const v128_t up = pixel_at(p + i);
      const v128_t avg = wasm_i8x16_sub(wasm_u8x16_avgr(left, up),
                                        wasm_v128_and(wasm_v128_xor(left, up), wasm_i8x16_splat(1)));
      out = wasm_i8x16_add(x, avg);
    } else {
      const v128_t up = pixel_at(p + i);
      const v128_t a = widen(left), b = widen(up), c = widen(upleft);
      const v128_t pa = wasm_i16x8_abs(wasm_i16x8_sub(b, c));
      const v128_t pb = wasm_i16x8_abs(wasm_i16x8_sub(a, c));
      const v128_t pc = wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_add(a, b), wasm_i16x8_add(c, c)));
      /* a where pa <= pb and pa <= pc, else b where pb <= pc, else c */
      const v128_t use_a = wasm_v128_and(wasm_i16x8_le(pa, pb), wasm_i16x8_le(pa, pc));
      const v128_t use_b = wasm_i16x8_le(pb, pc);
      const v128_t pred = wasm_v128_bitselect(a, wasm_v128_bitselect(b, c, use_b), use_a);
      out = wasm_i8x16_add(x, wasm_u8x16_narrow_i16x8(pred, pred));
      upleft = up;
    }
    wasm_v128_store32_lane(d + i, out, 0);
    left = out;
  }
}

/* PNG spec 9.2: the filtered scanline `s` (after its type byte) into `d`, against `p`. */
static int unfilter(int type, const uint8_t *restrict s, const uint8_t *restrict p,
                    uint8_t *restrict d)
{
  const uint32_t n = stride;
  uint32_t i;
  if (bpp == 4 && (type == 1 || type == 3 || type == 4)) {
    unfilter4(type, s, p, d, n);
    return 0;
  }
  switch (type) {
  case 0:
    memcpy(d, s, n);
    return 0;
  case 1:
    for (i = 0; i < bpp && i < n; i++) d[i] = s[i];
    for (; i < n; i++) d[i] = s[i] + d[i - bpp];
    return 0;
  case 2:
    for (i = 0; i < n; i++) d[i] = s[i] + p[i];
    return 0;
  case 3:
    for (i = 0; i < bpp && i < n; i++) d[i] = s[i] + (p[i] >> 1);
    for (; i < n; i++) d[i] = s[i] + ((d[i - bpp] + p[i]) >> 1);
    return 0;
  case 4:
    /* With no left neighbour the predictor is the byte above. */
    for (i = 0; i < bpp && i < n; i++) d[i] = s[i] + p[i];
    for (; i < n; i++) d[i] = s[i] + paeth(d[i - bpp], p[i], p[i - bpp]);
    return 0;
  default:
    return PP_UNKNOWN_FILTER - type;
  }
}

/*
 * Inflates and unfilters up to `rows` scanlines (at most the pass's band_rows) of the current
 * pass into `out` (rows × stride bytes, without their type bytes). Returns how many it finished:
 * fewer than asked when the input ran out (pp_needs_input: give it more and call again) or the
 * stream ended (pp_ended: the image is truncated); or a negative PP_ refusal.
 */
EXPORT(pp_rows) int pp_rows(uint8_t *out, int32_t rows)
{
  const uint32_t want = (uint32_t)rows * (stride + 1);
  while (raw_filled < want && !ended && zs.avail_in > 0) {
    zs.next_out = raw + raw_filled;
    zs.avail_out = want - raw_filled;
    int status = inflate(&zs, Z_NO_FLUSH);
    raw_filled = want - zs.avail_out;
    if (status == Z_STREAM_END) ended = 1;
    else if (status != Z_OK && status != Z_BUF_ERROR) return PP_CORRUPT;
  }
  const uint32_t done = (raw_filled < want ? raw_filled : want) / (stride + 1);
  const uint8_t *above = prev;
  for (uint32_t r = 0; r < done; r++) {
    const uint8_t *line = raw + (size_t)r * (stride + 1);
    uint8_t *row = out + (size_t)r * stride;
    const int refused = unfilter(line[0], line + 1, above, row);
    if (refused < 0) return refused;
    above = row;
  }
  if (done > 0) memcpy(prev, above, stride);
  /* A scanline inflated in part waits at the front for the rest. */
  const uint32_t used = done * (stride + 1);
  memmove(raw, raw + used, raw_filled - used);
  raw_filled -= used;
  return (int)done;
}

/*
 * After the last scanline: inflates what follows, without keeping it, until the stream ends, the
 * input runs out, or more than `limit` bytes came. Returns the bytes inflated, or PP_CORRUPT.
 */
EXPORT(pp_trailing) int32_t pp_trailing(int32_t limit)
{
  int32_t count = (int32_t)raw_filled;
  raw_filled = 0;
  while (!ended && zs.avail_in > 0 && count <= limit) {
    zs.next_out = raw;
    zs.avail_out = raw_bytes;
    int status = inflate(&zs, Z_NO_FLUSH);
    count += (int32_t)(raw_bytes - zs.avail_out);
    if (status == Z_STREAM_END) ended = 1;
    else if (status != Z_OK && status != Z_BUF_ERROR) return PP_CORRUPT;
  }
  return count;
}
