/*
 * Pictor's JPEG codec: libjpeg-turbo's C code behind a handful of exports, for a standalone
 * wasm32 module with a single import (env.pj_fail, which throws in JavaScript).
 *
 * Why it exists: libjpeg decodes at 1/2, 1/4 or 1/8 scale inside the inverse DCT
 * (scale_num / scale_denom), so a thumbnail of a 12 MP photo never materialises 12 MP of
 * pixels; jSquash's MozJPEG build does not expose that.
 *
 * Errors: libjpeg's error_exit must not return. Without setjmp/longjmp (not available for wasm32
 * without Emscripten), it calls the imported pj_fail, whose JavaScript exception unwinds the wasm
 * frames. The caller then restores the shadow stack pointer and calls pj_reset(), which destroys
 * the half-used libjpeg object (freeing every pool it allocated) and the buffers of this call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include "jpeglib.h"
#include "jerror.h"

#define EXPORT(name) __attribute__((export_name(#name)))

__attribute__((import_module("env"), import_name("pj_fail"))) extern void pj_fail(
    const char *message);

extern const char *const jpeg_std_message_table[];

static struct jpeg_error_mgr err;
static char message[JMSG_LENGTH_MAX];

static struct jpeg_decompress_struct dinfo;
static int dinfo_live;
static struct jpeg_compress_struct cinfo;
static int cinfo_live;

static uint8_t *pixels;         /* decoded RGBA, owned until pj_release_pixels */
static unsigned char *encoded;  /* encoded JPEG, owned until pj_release_encoded */
static unsigned long encoded_size;
static uint8_t *row_buffer;     /* one CMYK row set while converting to RGBA */

/* What pj_decode / pj_encode report: pointer, width, height, warnings, source components. */
static int32_t result[5];

/* Appends `v` in `base` to the message, zero-padded to `width` when `zero`. */
static char *put_number(char *out, char *limit, unsigned long v, unsigned base, int width, int zero)
{
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  for (; width > n && out < limit; width--) *out++ = zero ? '0' : ' ';
  while (n && out < limit) *out++ = digits[--n];
  return out;
}

/*
 * A progressive JPEG may hold any number of scans, each a pass over the blocks of its components:
 * 20 000 cheap scans in a few hundred KB kept a decoder busy for minutes. libjpeg-turbo's own
 * guidance (djpeg -maxscans, TJPARAM_SCANLIMIT) is to refuse past a few hundred scans; but on a
 * large image even 500 scans take a minute (measured: 20 ms a scan at 2048×2048 here), so the
 * blocks the scans cover are budgeted too, at `MAX_PASSES` times the image's blocks: libjpeg's
 * own progression (jpeg_simple_progression) covers each block about 4 times, MozJPEG's about 6.
 * Both are checked by libjpeg's progress monitor, which runs before each scan's data is read.
 */
#define MAX_PASSES 16

static struct jpeg_progress_mgr progress;
static int max_scans;
static int counted_scan;
static uint64_t scan_blocks;
static char refusal[128];

static void refuse_scans(const char *before, unsigned long count, const char *after)
{
  char *out = refusal, *limit = refusal + sizeof refusal - 1;
  while (*before && out < limit) *out++ = *before++;
  out = put_number(out, limit, count, 10, 0, 0);
  while (*after && out < limit) *out++ = *after++;
  *out = 0;
  pj_fail(refusal);
}

static void check_scan_limit(j_common_ptr c)
{
  if (!c->is_decompressor) return;
  j_decompress_ptr d = (j_decompress_ptr)c;
  if (d->input_scan_number == counted_scan || d->comps_in_scan == 0) return;
  counted_scan = d->input_scan_number;
  if (counted_scan > max_scans)
    refuse_scans("JPEG has more than ", (unsigned long)max_scans, " progressive scans");
  uint64_t image_blocks = 0;
  for (int i = 0; i < d->num_components; i++)
    image_blocks += (uint64_t)d->comp_info[i].width_in_blocks * d->comp_info[i].height_in_blocks;
  for (int i = 0; i < d->comps_in_scan; i++)
    scan_blocks += (uint64_t)d->cur_comp_info[i]->width_in_blocks *
                   d->cur_comp_info[i]->height_in_blocks;
  if (scan_blocks > MAX_PASSES * image_blocks)
    refuse_scans("JPEG's progressive scans pass over the image more than ", MAX_PASSES, " times");
}

/*
 * libjpeg's messages use only %d %u %x %c %s with a width and zero flag; formatting them here
 * keeps printf, whose stdio state drags in WASI fd_write/fd_seek/fd_close imports, out of the
 * module.
 */
static void format_message(j_common_ptr c, char *buffer)
{
  struct jpeg_error_mgr *e = c->err;
  int code = e->msg_code;
  const char *text = NULL;
  if (code > 0 && code <= e->last_jpeg_message) text = e->jpeg_message_table[code];
  if (text == NULL) text = "Bogus message code %d";
  char *out = buffer, *limit = buffer + JMSG_LENGTH_MAX - 1;
  int arg = 0;
  for (const char *p = text; *p && out < limit; p++) {
    if (*p != '%') {
      *out++ = *p;
      continue;
    }
    p++;
    int zero = *p == '0';
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    while (*p == 'l') p++;
    int v = code > 0 && code <= e->last_jpeg_message && arg < 8 ? e->msg_parm.i[arg] : code;
    switch (*p) {
      case 'd':
        if (v < 0 && out < limit) *out++ = '-';
        out = put_number(out, limit, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, width, zero);
        arg++;
        break;
      case 'u':
        out = put_number(out, limit, (unsigned)v, 10, width, zero);
        arg++;
        break;
      case 'x':
        out = put_number(out, limit, (unsigned)v, 16, width, zero);
        arg++;
        break;
      case 'c':
        *out++ = (char)v;
        arg++;
        break;
      case 's':
        for (const char *q = e->msg_parm.s; *q && q < e->msg_parm.s + JMSG_STR_PARM_MAX && out < limit; q++)
          *out++ = *q;
        break;
      case '%':
        *out++ = '%';
        break;
      default:
        if (!*p) p--;
    }
  }
  *out = 0;
}

static void error_exit(j_common_ptr c)
{
  format_message(c, message);
  pj_fail(message);
  __builtin_unreachable();
}

/* Warnings (corrupt but recoverable data) are counted, never printed: there is no stderr. */
static void emit_message(j_common_ptr c, int level)
{
  if (level < 0) c->err->num_warnings++;
}

static void output_message(j_common_ptr c) { (void)c; }

static void reset_error_mgr(j_common_ptr c)
{
  c->err->num_warnings = 0;
  c->err->msg_code = 0;
}

/* jpeg_std_error without jerror.c's stderr/exit() handlers, which would need WASI imports. */
static struct jpeg_error_mgr *error_manager(void)
{
  memset(&err, 0, sizeof err);
  err.error_exit = error_exit;
  err.emit_message = emit_message;
  err.output_message = output_message;
  err.format_message = format_message;
  err.reset_error_mgr = reset_error_mgr;
  err.jpeg_message_table = jpeg_std_message_table;
  err.last_jpeg_message = (int)JMSG_LASTMSGCODE - 1;
  return &err;
}

EXPORT(pj_malloc) void *pj_malloc(size_t size) { return malloc(size); }
EXPORT(pj_free) void pj_free(void *p) { free(p); }

EXPORT(pj_release_pixels) void pj_release_pixels(void)
{
  free(pixels);
  pixels = NULL;
}

EXPORT(pj_release_encoded) void pj_release_encoded(void)
{
  free(encoded);
  encoded = NULL;
  encoded_size = 0;
}

/* After a failure (or between calls): drops whatever the last call left behind. */
EXPORT(pj_reset) void pj_reset(void)
{
  if (dinfo_live) jpeg_destroy_decompress(&dinfo);
  if (cinfo_live) jpeg_destroy_compress(&cinfo);
  dinfo_live = cinfo_live = 0;
  free(row_buffer);
  row_buffer = NULL;
  pj_release_pixels();
  pj_release_encoded();
}

/* Adobe CMYK/YCCK JPEGs store inverted ink (Adobe APP14); plain ones store ink amounts. */
static void cmyk_to_rgba(const uint8_t *in, uint8_t *out, JDIMENSION width, int inverted)
{
  for (JDIMENSION x = 0; x < width; x++, in += 4, out += 4) {
    unsigned c = in[0], m = in[1], y = in[2], k = in[3];
    if (!inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    /* (255 - ink) × (255 - black) / 255, rounded: no colour profile, like a naive RIP. */
    out[0] = (uint8_t)((c * k + 127) / 255);
    out[1] = (uint8_t)((m * k + 127) / 255);
    out[2] = (uint8_t)((y * k + 127) / 255);
    out[3] = 255;
  }
}

/*
 * Decodes `len` bytes at `input` to RGBA at 1/`scale_denom` of the size (1, 2, 4 or 8; each side
 * rounded up, as libjpeg does). `fast_idct` picks JDCT_IFAST over JDCT_ISLOW for full-size
 * decodes (the reduced IDCTs are the same either way). Refuses, before allocating anything of
 * the image's size, a frame of more than `max_pixels` pixels, and stops reading at scan
 * `scan_limit` + 1 or when the scans would pass over the image more than MAX_PASSES times.
 * `region_width` > 0 asks for only the `region_width` × `region_height` box at `region_left`,
 * `region_top` of the (reduced) output: rows above it are skipped (jpeg_skip_scanlines: no IDCT,
 * no colour conversion), columns outside the iMCU columns it touches are never converted
 * (jpeg_crop_scanline), and the rows below it are not decoded at all. Returns a pointer to
 * [pixels, width, height, warnings, components]; the pixels stay allocated until
 * pj_release_pixels().
 */
EXPORT(pj_decode)
int32_t *pj_decode(const uint8_t *input, uint32_t len, int scale_denom, int fast_idct,
                   uint32_t max_pixels, int scan_limit, uint32_t region_left, uint32_t region_top,
                   uint32_t region_width, uint32_t region_height)
{
  pj_reset();
  dinfo.err = error_manager();
  jpeg_create_decompress(&dinfo);
  dinfo_live = 1;
  max_scans = scan_limit;
  counted_scan = 0;
  scan_blocks = 0;
  progress.progress_monitor = check_scan_limit;
  dinfo.progress = &progress;
  jpeg_mem_src(&dinfo, input, len);
  jpeg_read_header(&dinfo, TRUE);
  if ((uint64_t)dinfo.image_width * dinfo.image_height > max_pixels) {
    pj_fail("JPEG frame has more pixels than allowed");
  }

  dinfo.scale_num = 1;
  dinfo.scale_denom = (unsigned)scale_denom;
  dinfo.dct_method = fast_idct ? JDCT_IFAST : JDCT_ISLOW;
  int cmyk = dinfo.jpeg_color_space == JCS_CMYK || dinfo.jpeg_color_space == JCS_YCCK;
  dinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
  jpeg_start_decompress(&dinfo);

  JDIMENSION width = dinfo.output_width, height = dinfo.output_height;
  JDIMENSION skip_x = 0, first_row = 0;
  int region = region_width > 0 && region_height > 0;
  if (region) {
    if ((uint64_t)region_left + region_width > width || (uint64_t)region_top + region_height > height)
      pj_fail("JPEG region lies outside the image");
    JDIMENSION left = region_left, decoded_width = region_width;
    /* Widens the box to whole iMCU columns: `left` moves down, `decoded_width` up. */
    jpeg_crop_scanline(&dinfo, &left, &decoded_width);
    skip_x = region_left - left;
    first_row = region_top;
    width = region_width;
    height = region_top + region_height;
  }
  size_t row_bytes = (size_t)width * 4;
  JDIMENSION rows_out = height - first_row;
  /* size_t is 32 bits here: a 65500 × 65500 header must not wrap around to a small buffer. */
  pixels = (uint64_t)row_bytes * rows_out > 0x7fffffff ? NULL : malloc(row_bytes * rows_out);
  if (!pixels) {
    pj_fail("Out of memory for the decoded image");
  }
  if (cmyk || region) {
    row_buffer = malloc((size_t)dinfo.output_width * 4);
    if (!row_buffer) {
      pj_fail("Out of memory for a row");
    }
  }
  if (first_row > 0) jpeg_skip_scanlines(&dinfo, first_row);
  int inverted = dinfo.saw_Adobe_marker;
  while (dinfo.output_scanline < height) {
    JDIMENSION y = dinfo.output_scanline - first_row;
    if (cmyk || region) {
      JSAMPROW row = row_buffer;
      jpeg_read_scanlines(&dinfo, &row, 1);
      if (cmyk)
        cmyk_to_rgba(row_buffer + (size_t)skip_x * 4, pixels + y * row_bytes, width, inverted);
      else
        memcpy(pixels + y * row_bytes, row_buffer + (size_t)skip_x * 4, row_bytes);
    } else {
      JSAMPROW rows[4];
      int n = 0;
      for (; n < 4 && y + (JDIMENSION)n < height; n++) rows[n] = pixels + (y + n) * row_bytes;
      jpeg_read_scanlines(&dinfo, rows, (JDIMENSION)n);
    }
  }
  /* A region leaves rows unread, which jpeg_finish_decompress would call an error. */
  if (dinfo.output_scanline == dinfo.output_height) jpeg_finish_decompress(&dinfo);
  height = rows_out;
  result[0] = (int32_t)(uintptr_t)pixels;
  result[1] = (int32_t)width;
  result[2] = (int32_t)height;
  result[3] = (int32_t)err.num_warnings;
  result[4] = dinfo.num_components;
  jpeg_destroy_decompress(&dinfo);
  dinfo_live = 0;
  free(row_buffer);
  row_buffer = NULL;
  return result;
}

/*
 * Encodes opaque RGBA (alpha ignored) as a JFIF JPEG with libjpeg's standard (Annex K)
 * quantisation tables scaled to `quality`. Returns a pointer to [bytes, length]; the bytes stay
 * allocated until pj_release_encoded().
 */
EXPORT(pj_encode)
int32_t *pj_encode(const uint8_t *rgba, uint32_t width, uint32_t height, int quality,
                   int progressive, int subsample_444, int optimize_coding)
{
  pj_reset();
  cinfo.err = error_manager();
  jpeg_create_compress(&cinfo);
  cinfo_live = 1;
  jpeg_mem_dest(&cinfo, &encoded, &encoded_size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_EXT_RGBA;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = optimize_coding ? TRUE : FALSE;
  cinfo.dct_method = JDCT_ISLOW;
  int factor = subsample_444 ? 1 : 2;
  cinfo.comp_info[0].h_samp_factor = factor;
  cinfo.comp_info[0].v_samp_factor = factor;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  size_t row_bytes = (size_t)width * 4;
  while (cinfo.next_scanline < height) {
    JSAMPROW rows[8];
    JDIMENSION y = cinfo.next_scanline;
    int n = 0;
    for (; n < 8 && y + (JDIMENSION)n < height; n++)
      rows[n] = (JSAMPROW)(rgba + (size_t)(y + n) * row_bytes);
    jpeg_write_scanlines(&cinfo, rows, (JDIMENSION)n);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  cinfo_live = 0;
  result[0] = (int32_t)(uintptr_t)encoded;
  result[1] = (int32_t)encoded_size;
  return result;
}
