#!/bin/sh
# Rebuilds pictor_webp_enc.wasm from Debian's libwebp source package with Debian's clang, lld and
# wasi-libc (no Emscripten compiler): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32.
#
#   wasm/webp-encode/build.sh                    # fetches the source with `apt-get source`
#   wasm/webp-encode/build.sh /path/to/libwebp-1.2.4
#
# `apt-get source` needs a deb-src line for the suite (see wasm/jpeg-scaled/build.sh).
#
# The encoder (src/enc, with the parts of src/dsp, src/utils and sharpyuv it links), -O3,
# single-threaded, with libwebp's SSE2 and SSE4.1 code compiled to wasm SIMD128 through
# Emscripten's SSE headers (each intrinsic written with wasm_simd128.h; taken from Debian's
# emscripten package, used at build time only), as libwebp builds under Emscripten, and
# pictor_webp_enc.c's wasm SIMD inverse transform in place of the SSE2 one. The source is not
# changed. The module has no imports and needs no WASI.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=1.2.4
debian_version=0.2+deb12u1
src=${1:-}
fetch=""
work=$(mktemp -d)
trap 'rm -rf $fetch $work' EXIT
if [ -z "$src" ]; then
  fetch=$(mktemp -d)
  (cd "$fetch" && apt-get source "libwebp=$version-$debian_version")
  src="$fetch/libwebp-$version"
fi
[ -f "$src/src/enc/webp_enc.c" ] || { echo "no libwebp source at $src" >&2; exit 1; }

# Emscripten's SSE headers up to SSE4.1 (MIT / University of Illinois licence).
(cd "$work" && apt-get download "emscripten=3.1.6~dfsg-5" && dpkg-deb -x emscripten_*.deb em)
mkdir "$work/sse"
for h in xmmintrin emmintrin pmmintrin tmmintrin smmintrin; do
  cp "$work/em/usr/share/emscripten/system/include/compat/$h.h" "$work/sse/"
done

# src/enc and sharpyuv, and the COMMON and ENC sources of src/dsp and src/utils (what libwebp
# links), with their SSE2 and SSE4.1 files and without the other architectures'.
sources="enc/alpha_enc.c enc/analysis_enc.c enc/backward_references_cost_enc.c
  enc/backward_references_enc.c enc/config_enc.c enc/cost_enc.c enc/filter_enc.c enc/frame_enc.c
  enc/histogram_enc.c enc/iterator_enc.c enc/near_lossless_enc.c enc/picture_csp_enc.c
  enc/picture_enc.c enc/picture_psnr_enc.c enc/picture_rescale_enc.c enc/picture_tools_enc.c
  enc/predictor_enc.c enc/quant_enc.c enc/syntax_enc.c enc/token_enc.c enc/tree_enc.c
  enc/vp8l_enc.c enc/webp_enc.c
  dsp/alpha_processing.c dsp/cpu.c dsp/dec.c dsp/dec_clip_tables.c dsp/filters.c dsp/lossless.c
  dsp/rescaler.c dsp/upsampling.c dsp/yuv.c dsp/cost.c dsp/enc.c dsp/lossless_enc.c dsp/ssim.c
  dsp/alpha_processing_sse2.c dsp/alpha_processing_sse41.c dsp/dec_sse2.c dsp/dec_sse41.c
  dsp/filters_sse2.c dsp/lossless_sse2.c dsp/lossless_sse41.c dsp/rescaler_sse2.c
  dsp/upsampling_sse2.c dsp/upsampling_sse41.c dsp/yuv_sse2.c dsp/yuv_sse41.c dsp/cost_sse2.c
  dsp/enc_sse2.c dsp/enc_sse41.c dsp/lossless_enc_sse2.c dsp/lossless_enc_sse41.c
  dsp/ssim_sse2.c
  utils/bit_reader_utils.c utils/bit_writer_utils.c utils/color_cache_utils.c
  utils/filters_utils.c utils/huffman_encode_utils.c utils/huffman_utils.c
  utils/quant_levels_utils.c utils/random_utils.c utils/rescaler_utils.c utils/thread_utils.c
  utils/utils.c"
files=""
for f in $sources; do files="$files $src/src/$f"; done
for f in sharpyuv.c sharpyuv_csp.c sharpyuv_dsp.c sharpyuv_gamma.c sharpyuv_sse2.c; do
  files="$files $src/sharpyuv/$f"
done

# shellcheck disable=SC2086
clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -mmutable-globals \
  -ffunction-sections -fdata-sections -DNDEBUG \
  -D__SSE__ -D__SSE2__ -D__SSE3__ -D__SSSE3__ -D__SSE4_1__ -DEMSCRIPTEN -isystem "$work/sse" \
  -I"$src" -Wno-everything \
  -nostartfiles -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all \
  -Wl,--export=__wasm_call_ctors -Wl,--stack-first -Wl,-z,stack-size=1048576 -Wl,--initial-memory=2097152 \
  -o "$here/pictor_webp_enc.wasm" "$here/pictor_webp_enc.c" $files

cp "$src/COPYING" "$here/COPYING"
cp "$src/PATENTS" "$here/PATENTS"
chmod 644 "$here/pictor_webp_enc.wasm"
ls -l "$here/pictor_webp_enc.wasm"
