/*
 * libjpeg-turbo's SIMD hooks (jsimd.h) for wasm32 with 128-bit SIMD, where the library has only
 * x86 and Arm assembly: the two steps that the profile of a 9 MP baseline JPEG decoded at 1/2
 * scale (a thumbnail's shrink-on-load) showed next to the Huffman decoding, and the chroma
 * upsampling of a full-size 4:2:0 or 4:2:2 decode; for the encoder, its colour conversion and
 * quantisation; written with wasm_simd128.h. Each gives exactly the bytes of the C code it
 * replaces (jidctred.c's jpeg_idct_4x4, jdcolor.c's ycc_rgb_convert, jdsample.c's
 * h2v2_fancy_upsample and h2v1_fancy_upsample, jccolor.c's rgb_ycc_convert, jcdctmgr.c's
 * quantize): the same integer arithmetic, several lanes at a time. build.sh renames
 * jsimd_none.c's stubs of these functions out of the way.
 */
#define JPEG_INTERNALS
#include <wasm_simd128.h>

#include "jinclude.h"
#include "jpeglib.h"
#include "jdct.h"
#include "jsimd.h"

/* jidctred.c's constants (CONST_BITS 13, PASS1_BITS 2). */
#define CONST_BITS 13
#define PASS1_BITS 2
#define FIX_0_211164243 1730
#define FIX_0_509795579 4176
#define FIX_0_601344887 4926
#define FIX_0_765366865 6270
#define FIX_0_899976223 7373
#define FIX_1_061594337 8697
#define FIX_1_451774981 11893
#define FIX_1_847759065 15137
#define FIX_2_172734803 17799
#define FIX_2_562915447 20995

#define MUL(v, c) wasm_i32x4_mul((v), wasm_i32x4_splat(c))
#define DESCALE(v, n) wasm_i32x4_shr(wasm_i32x4_add((v), wasm_i32x4_splat(1 << ((n) - 1))), (n))

GLOBAL(int)
jsimd_can_idct_4x4(void)
{
  return 1;
}

/* One row of 4 coefficients (int16), dequantised (× int32 multipliers) into i32x4. */
static inline v128_t dequantize(const JCOEF *coef, const ISLOW_MULT_TYPE *quant)
{
  return wasm_i32x4_mul(wasm_i32x4_extend_low_i16x8(wasm_v128_load64_zero(coef)),
                        wasm_v128_load(quant));
}

/* jpeg_idct_4x4's butterfly on four lanes: x0, x2, x6 even, x1, x3, x5, x7 odd; `shift` descales
 * the results and `up` is tmp0's left shift. Writes the four outputs. */
static inline void idct4(v128_t x0, v128_t x1, v128_t x2, v128_t x3, v128_t x5, v128_t x6,
                         v128_t x7, int shift, v128_t out[4])
{
  const v128_t tmp0e = wasm_i32x4_shl(x0, CONST_BITS + 1);
  const v128_t tmp2e = wasm_i32x4_add(MUL(x2, FIX_1_847759065), MUL(x6, -FIX_0_765366865));
  const v128_t tmp10 = wasm_i32x4_add(tmp0e, tmp2e);
  const v128_t tmp12 = wasm_i32x4_sub(tmp0e, tmp2e);
  /* z1 = x7, z2 = x5, z3 = x3, z4 = x1 */
  const v128_t tmp0 = wasm_i32x4_add(
    wasm_i32x4_add(MUL(x7, -FIX_0_211164243), MUL(x5, FIX_1_451774981)),
    wasm_i32x4_add(MUL(x3, -FIX_2_172734803), MUL(x1, FIX_1_061594337)));
  const v128_t tmp2 = wasm_i32x4_add(
    wasm_i32x4_add(MUL(x7, -FIX_0_509795579), MUL(x5, -FIX_0_601344887)),
    wasm_i32x4_add(MUL(x3, FIX_0_899976223), MUL(x1, FIX_2_562915447)));
  out[0] = DESCALE(wasm_i32x4_add(tmp10, tmp2), shift);
  out[3] = DESCALE(wasm_i32x4_sub(tmp10, tmp2), shift);
  out[1] = DESCALE(wasm_i32x4_add(tmp12, tmp0), shift);
  out[2] = DESCALE(wasm_i32x4_sub(tmp12, tmp0), shift);
}

/* Transposes the 4×4 block of i32 in r[0..3] (rows) into columns. */
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

/*
 * jpeg_idct_4x4 (a block's 4×4 reduced inverse DCT): pass 1 on the eight columns as two groups of
 * four lanes (column 4, which pass 2 ignores, comes along for free), pass 2 on the four rows at
 * once after a transpose. The C version's all-zero shortcuts give what the full formula gives; only
 * the whole-block one is kept, which skips the most.
 */
GLOBAL(void)
jsimd_idct_4x4(j_decompress_ptr cinfo, jpeg_component_info *compptr, JCOEFPTR coef_block,
               JSAMPARRAY output_buf, JDIMENSION output_col)
{
  (void)cinfo;
  const ISLOW_MULT_TYPE *q = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  /* A flat block: every coefficient the 4×4 IDCT reads (not row 4 nor column 4) is zero but DC,
   * as in smooth areas and much of the chroma. Both passes then give one value, (DC·q + 4) >> 3,
   * and the butterflies can be skipped. */
  const v128_t col4 = wasm_i16x8_make(-1, -1, -1, -1, 0, -1, -1, -1);
  v128_t ac = wasm_v128_and(wasm_v128_load(coef_block), wasm_i16x8_replace_lane(col4, 0, 0));
  for (int row = 1; row < DCTSIZE; row++) {
    if (row != 4) ac = wasm_v128_or(ac, wasm_v128_and(wasm_v128_load(coef_block + DCTSIZE * row), col4));
  }
  if (!wasm_v128_any_true(ac)) {
    int v = (coef_block[0] * q[0] + 4) >> 3;
    v = ((int32_t)((uint32_t)v << 22) >> 22) + CENTERJSAMPLE; /* range_limit[v & RANGE_MASK] */
    const JSAMPLE flat = (JSAMPLE)(v < 0 ? 0 : v > MAXJSAMPLE ? MAXJSAMPLE : v);
    for (int row = 0; row < 4; row++) memset(output_buf[row] + output_col, flat, 4);
    return;
  }
  /* ws[half][row]: pass 1's output, row 0..3 of columns 4·half .. 4·half + 3 */
  v128_t ws[2][4];
  for (int half = 0; half < 2; half++) {
    const JCOEF *c = coef_block + 4 * half;
    const ISLOW_MULT_TYPE *m = q + 4 * half;
    idct4(dequantize(c, m), dequantize(c + DCTSIZE * 1, m + DCTSIZE * 1),
          dequantize(c + DCTSIZE * 2, m + DCTSIZE * 2),
          dequantize(c + DCTSIZE * 3, m + DCTSIZE * 3),
          dequantize(c + DCTSIZE * 5, m + DCTSIZE * 5),
          dequantize(c + DCTSIZE * 6, m + DCTSIZE * 6),
          dequantize(c + DCTSIZE * 7, m + DCTSIZE * 7), CONST_BITS - PASS1_BITS + 1, ws[half]);
  }
  /* Columns k of the workspace over its four rows: lo[k] for k < 4, hi[k - 4] for the rest. */
  transpose4(ws[0]);
  transpose4(ws[1]);
  v128_t out[4];
  idct4(ws[0][0], ws[0][1], ws[0][2], ws[0][3], ws[1][1], ws[1][2], ws[1][3],
        CONST_BITS + PASS1_BITS + 3 + 1, out);
  /* out[k]: output column k of rows 0..3; back to rows, then range_limit[x & RANGE_MASK], which
   * is the low 10 bits as a signed value plus CENTERJSAMPLE, clamped to 0..255. */
  transpose4(out);
  for (int row = 0; row < 4; row++) {
    v128_t v = wasm_i32x4_shr(wasm_i32x4_shl(out[row], 22), 22);
    v = wasm_i32x4_add(v, wasm_i32x4_splat(CENTERJSAMPLE));
    v = wasm_i16x8_narrow_i32x4(v, v);
    v = wasm_u8x16_narrow_i16x8(v, v);
    wasm_v128_store32_lane(output_buf[row] + output_col, v, 0);
  }
}

/* jdcolor.c's YCbCr → RGB (SCALEBITS 16): R = Y + 1.402 Cr, G = Y − 0.34414 Cb − 0.71414 Cr,
 * B = Y + 1.772 Cb, each term rounded as its table is. */
#define SCALEBITS 16
#define ONE_HALF (1 << (SCALEBITS - 1))
#define FIX(x) ((int32_t)((x) * (1L << SCALEBITS) + 0.5))

GLOBAL(int)
jsimd_can_ycc_rgb(void)
{
  return 1;
}

static inline v128_t load4(const JSAMPLE *p)
{
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
}

static inline void ycc_rgba_pixel(int y, int cb, int cr, JSAMPLE *out)
{
  cb -= CENTERJSAMPLE;
  cr -= CENTERJSAMPLE;
  const int r = y + ((FIX(1.40200) * cr + ONE_HALF) >> SCALEBITS);
  const int g = y + ((-FIX(0.34414) * cb + ONE_HALF - FIX(0.71414) * cr) >> SCALEBITS);
  const int b = y + ((FIX(1.77200) * cb + ONE_HALF) >> SCALEBITS);
  out[0] = r < 0 ? 0 : r > MAXJSAMPLE ? MAXJSAMPLE : r;
  out[1] = g < 0 ? 0 : g > MAXJSAMPLE ? MAXJSAMPLE : g;
  out[2] = b < 0 ? 0 : b > MAXJSAMPLE ? MAXJSAMPLE : b;
  out[3] = MAXJSAMPLE;
}

/*
 * ycc_rgb_convert into RGBA (JCS_EXT_RGBA, all that pictor_jpeg.c asks for), four pixels a step:
 * the three channels as i32x4, narrowed with saturation (the clamp of range_limit) and
 * interleaved with alpha 255.
 */
GLOBAL(void)
jsimd_ycc_rgb_convert(j_decompress_ptr cinfo, JSAMPIMAGE input_buf, JDIMENSION input_row,
                      JSAMPARRAY output_buf, int num_rows)
{
  if (cinfo->out_color_space != JCS_EXT_RGBA) ERREXIT(cinfo, JERR_CONVERSION_NOTIMPL);
  const JDIMENSION width = cinfo->output_width;
  const v128_t center = wasm_i32x4_splat(CENTERJSAMPLE);
  const v128_t half = wasm_i32x4_splat(ONE_HALF);
  const v128_t alpha = wasm_i8x16_splat((int8_t)MAXJSAMPLE);
  while (--num_rows >= 0) {
    const JSAMPLE *y = input_buf[0][input_row];
    const JSAMPLE *cb = input_buf[1][input_row];
    const JSAMPLE *cr = input_buf[2][input_row];
    input_row++;
    JSAMPLE *out = *output_buf++;
    JDIMENSION x = 0;
    for (; x + 4 <= width; x += 4, out += 16) {
      const v128_t vy = load4(y + x);
      const v128_t vb = wasm_i32x4_sub(load4(cb + x), center);
      const v128_t vr = wasm_i32x4_sub(load4(cr + x), center);
      const v128_t r = wasm_i32x4_add(
        vy, wasm_i32x4_shr(wasm_i32x4_add(MUL(vr, FIX(1.40200)), half), SCALEBITS));
      const v128_t g = wasm_i32x4_add(
        vy, wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(MUL(vb, -FIX(0.34414)), half),
                                          MUL(vr, -FIX(0.71414))),
                           SCALEBITS));
      const v128_t b = wasm_i32x4_add(
        vy, wasm_i32x4_shr(wasm_i32x4_add(MUL(vb, FIX(1.77200)), half), SCALEBITS));
      /* i32 → i16 → u8, saturating: bytes 0–3 of rg hold R, 4–7 hold G; of ba, B and A. */
      const v128_t rg = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r, g), alpha);
      const v128_t bb = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(b, b), alpha);
      const v128_t ba = wasm_i8x16_shuffle(bb, alpha, 0, 1, 2, 3, 16, 17, 18, 19, 0, 0, 0, 0, 0,
                                           0, 0, 0);
      wasm_v128_store(out, wasm_i8x16_shuffle(rg, ba, 0, 4, 16, 20, 1, 5, 17, 21, 2, 6, 18, 22,
                                              3, 7, 19, 23));
    }
    for (; x < width; x++, out += 4) ycc_rgba_pixel(y[x], cb[x], cr[x], out);
  }
}

/*
 * jdsample.c's fancy (triangle-filter) upsampling of 4:2:0 and 4:2:2 chroma, eight input columns a
 * step: the same integer sums and roundings as h2v2_fancy_upsample and h2v1_fancy_upsample, so
 * the same bytes. The first column and the last eight or fewer go through the C's scalar formulas,
 * so that every vector load of a column's neighbours stays inside the row.
 */
GLOBAL(int)
jsimd_can_h2v2_fancy_upsample(void)
{
  return 1;
}

GLOBAL(int)
jsimd_can_h2v1_fancy_upsample(void)
{
  return 1;
}

static inline v128_t load8(const JSAMPLE *p)
{
  return wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(p));
}

/* Sixteen output samples from eight columns' "this" sums and their left and right neighbours':
 * (3·this + left + bias_even) >> shift and (3·this + right + bias_odd) >> shift, interleaved. */
static inline void store16(JSAMPLE *out, v128_t here, v128_t left, v128_t right, v128_t bias_even,
                           v128_t bias_odd, int shift)
{
  const v128_t three = wasm_i16x8_add(wasm_i16x8_add(here, here), here);
  const v128_t even = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(three, left), bias_even), shift);
  const v128_t odd = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(three, right), bias_odd), shift);
  const v128_t lo = wasm_i16x8_shuffle(even, odd, 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t hi = wasm_i16x8_shuffle(even, odd, 4, 12, 5, 13, 6, 14, 7, 15);
  wasm_v128_store(out, wasm_u8x16_narrow_i16x8(lo, hi));
}

GLOBAL(void)
jsimd_h2v1_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr,
                          JSAMPARRAY input_data, JSAMPARRAY *output_data_ptr)
{
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION n = compptr->downsampled_width; /* > 2, as jinit_upsampler requires */
  const v128_t one = wasm_i16x8_splat(1), two = wasm_i16x8_splat(2);
  for (int inrow = 0; inrow < cinfo->max_v_samp_factor; inrow++) {
    const JSAMPLE *in = input_data[inrow];
    JSAMPLE *out = output_data[inrow];
    out[0] = in[0];
    out[1] = (JSAMPLE)((in[0] * 3 + in[1] + 2) >> 2);
    JDIMENSION i = 1;
    for (; i + 8 < n; i += 8) {
      store16(out + 2 * i, load8(in + i), load8(in + i - 1), load8(in + i + 1), one, two, 2);
    }
    for (; i < n - 1; i++) {
      out[2 * i] = (JSAMPLE)((in[i] * 3 + in[i - 1] + 1) >> 2);
      out[2 * i + 1] = (JSAMPLE)((in[i] * 3 + in[i + 1] + 2) >> 2);
    }
    out[2 * i] = (JSAMPLE)((in[i] * 3 + in[i - 1] + 1) >> 2);
    out[2 * i + 1] = in[i];
  }
}

GLOBAL(void)
jsimd_h2v2_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr,
                          JSAMPARRAY input_data, JSAMPARRAY *output_data_ptr)
{
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION n = compptr->downsampled_width; /* > 2, as jinit_upsampler requires */
  const v128_t eight = wasm_i16x8_splat(8), seven = wasm_i16x8_splat(7);
  int inrow = 0, outrow = 0;
  while (outrow < cinfo->max_v_samp_factor) {
    for (int v = 0; v < 2; v++) {
      /* The nearest input row, and the next nearest: above for the first output row, below for
       * the second. A column's sum is 3·nearest + next. */
      const JSAMPLE *in0 = input_data[inrow];
      const JSAMPLE *in1 = input_data[v == 0 ? inrow - 1 : inrow + 1];
      JSAMPLE *out = output_data[outrow++];
#define COLSUM(i) (in0[i] * 3 + in1[i])
#define VCOLSUM(i) \
  wasm_i16x8_add(wasm_i16x8_mul(load8(in0 + (i)), wasm_i16x8_splat(3)), load8(in1 + (i)))
      out[0] = (JSAMPLE)((COLSUM(0) * 4 + 8) >> 4);
      out[1] = (JSAMPLE)((COLSUM(0) * 3 + COLSUM(1) + 7) >> 4);
      JDIMENSION i = 1;
      for (; i + 8 < n; i += 8) {
        store16(out + 2 * i, VCOLSUM(i), VCOLSUM(i - 1), VCOLSUM(i + 1), eight, seven, 4);
      }
      for (; i < n - 1; i++) {
        out[2 * i] = (JSAMPLE)((COLSUM(i) * 3 + COLSUM(i - 1) + 8) >> 4);
        out[2 * i + 1] = (JSAMPLE)((COLSUM(i) * 3 + COLSUM(i + 1) + 7) >> 4);
      }
      out[2 * i] = (JSAMPLE)((COLSUM(i) * 3 + COLSUM(i - 1) + 8) >> 4);
      out[2 * i + 1] = (JSAMPLE)((COLSUM(i) * 4 + 7) >> 4);
#undef COLSUM
#undef VCOLSUM
    }
    inrow++;
  }
}

/*
 * The encoder's two hottest steps after the Huffman coding (a 9 MP RGBA encode: quantize 27 % of
 * the time, rgb_ycc_convert 16 %), each giving the bytes of the C it replaces.
 *
 * jccolor.c's RGB → YCbCr from RGBA (JCS_EXT_RGBA, all that pictor_jpeg.c gives it), four pixels a
 * step. Its tables are linear in the sample (rgb_ycc_start: FIX(0.299)·i, …, plus the rounding
 * terms), so multiplying in 32-bit lanes sums exactly what the table lookups sum.
 */
#define CBCR_OFFSET ((int32_t)CENTERJSAMPLE << SCALEBITS)

GLOBAL(int)
jsimd_can_rgb_ycc(void)
{
  return 1;
}

/* Four i32 lanes (each 0..255) into four bytes at `out`. */
static inline void store4(JSAMPLE *out, v128_t v)
{
  v = wasm_u16x8_narrow_i32x4(v, v);
  wasm_v128_store32_lane(out, wasm_u8x16_narrow_i16x8(v, v), 0);
}

GLOBAL(void)
jsimd_rgb_ycc_convert(j_compress_ptr cinfo, JSAMPARRAY input_buf, JSAMPIMAGE output_buf,
                      JDIMENSION output_row, int num_rows)
{
  if (cinfo->in_color_space != JCS_EXT_RGBA) ERREXIT(cinfo, JERR_CONVERSION_NOTIMPL);
  const JDIMENSION width = cinfo->image_width;
  const v128_t byte = wasm_i32x4_splat(0xff);
  const v128_t y_round = wasm_i32x4_splat(ONE_HALF);
  const v128_t c_round = wasm_i32x4_splat(CBCR_OFFSET + ONE_HALF - 1);
  while (--num_rows >= 0) {
    const JSAMPLE *in = *input_buf++;
    JSAMPLE *y = output_buf[0][output_row];
    JSAMPLE *cb = output_buf[1][output_row];
    JSAMPLE *cr = output_buf[2][output_row];
    output_row++;
    JDIMENSION x = 0;
    for (; x + 4 <= width; x += 4) {
      const v128_t px = wasm_v128_load(in + 4 * x);
      const v128_t r = wasm_v128_and(px, byte);
      const v128_t g = wasm_v128_and(wasm_u32x4_shr(px, 8), byte);
      const v128_t b = wasm_v128_and(wasm_u32x4_shr(px, 16), byte);
      store4(y + x, wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(MUL(r, FIX(0.29900)),
                                                                 MUL(g, FIX(0.58700))),
                                                  wasm_i32x4_add(MUL(b, FIX(0.11400)), y_round)),
                                   SCALEBITS));
      store4(cb + x, wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(MUL(r, -FIX(0.16874)),
                                                                  MUL(g, -FIX(0.33126))),
                                                   wasm_i32x4_add(MUL(b, FIX(0.50000)), c_round)),
                                    SCALEBITS));
      store4(cr + x, wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(MUL(r, FIX(0.50000)),
                                                                  MUL(g, -FIX(0.41869))),
                                                   wasm_i32x4_add(MUL(b, -FIX(0.08131)), c_round)),
                                    SCALEBITS));
    }
    for (; x < width; x++) {
      const int r = in[4 * x], g = in[4 * x + 1], b = in[4 * x + 2];
      y[x] = (JSAMPLE)((FIX(0.29900) * r + FIX(0.58700) * g + FIX(0.11400) * b + ONE_HALF) >>
                       SCALEBITS);
      cb[x] = (JSAMPLE)((-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.50000) * b + CBCR_OFFSET +
                         ONE_HALF - 1) >> SCALEBITS);
      cr[x] = (JSAMPLE)((FIX(0.50000) * r - FIX(0.41869) * g - FIX(0.08131) * b + CBCR_OFFSET +
                         ONE_HALF - 1) >> SCALEBITS);
    }
  }
}

/*
 * jcdctmgr.c's quantize, four coefficients a step. Without WITH_SIMD, libjpeg-turbo's DCTELEM is a
 * 32-bit int (jdct.h): (|x| + correction) × reciprocal in 64 bits, shifted right by 32 + the
 * divisor's shift, the sign put back. wasm has no per-lane shift, so the shift past 32 is a
 * multiplication by 2^(16 − shift) (made as a float's exponent) and a shift by 16, which floors
 * the same: the product's top half is below 2^16 and the shift is 2..10 for the ×8 divisors of
 * the integer DCTs (compute_reciprocal).
 */
GLOBAL(int)
jsimd_can_quantize(void)
{
  return 1;
}

/* 2^(16 − shift) for four i32 shifts in 1..16, exactly. */
static inline v128_t pow2_16_minus(v128_t shift)
{
  const v128_t bits = wasm_i32x4_shl(wasm_i32x4_sub(wasm_i32x4_splat(127 + 16), shift), 23);
  return wasm_i32x4_trunc_sat_f32x4(bits);
}

static inline v128_t quantize4(const DCTELEM *workspace, const DCTELEM *divisors)
{
  const v128_t x = wasm_v128_load(workspace);
  const v128_t sign = wasm_i32x4_shr(x, 31);
  const v128_t a = wasm_i32x4_add(wasm_i32x4_abs(x), wasm_v128_load(divisors + DCTSIZE2));
  const v128_t recip = wasm_v128_load(divisors);
  const v128_t lo = wasm_u64x2_shr(wasm_u64x2_extmul_low_u32x4(a, recip), 32);
  const v128_t hi = wasm_u64x2_shr(wasm_u64x2_extmul_high_u32x4(a, recip), 32);
  v128_t q = wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6);
  q = wasm_u32x4_shr(
    wasm_i32x4_mul(q, pow2_16_minus(wasm_v128_load(divisors + DCTSIZE2 * 3))), 16);
  return wasm_i32x4_sub(wasm_v128_xor(q, sign), sign);
}

GLOBAL(void)
jsimd_quantize(JCOEFPTR coef_block, DCTELEM *divisors, DCTELEM *workspace)
{
  for (int i = 0; i < DCTSIZE2; i += 8) {
    wasm_v128_store(coef_block + i,
                    wasm_i16x8_narrow_i32x4(quantize4(workspace + i, divisors + i),
                                            quantize4(workspace + i + 4, divisors + i + 4)));
  }
}
