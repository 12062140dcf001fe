#!/bin/sh
# Rebuilds pictor_jpeg.wasm from Debian's libjpeg-turbo source package with Debian's clang, lld
# and wasi-libc (no Emscripten): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32.
#
#   wasm/jpeg-scaled/build.sh                       # fetches the source with `apt-get source`
#   wasm/jpeg-scaled/build.sh /path/to/libjpeg-turbo-2.1.5
#
# `apt-get source` needs a deb-src line for the suite, e.g. in
# /etc/apt/sources.list.d/debian-src.sources:
#   Types: deb-src
#   URIs: http://deb.debian.org/debian
#   Suites: bookworm
#   Components: main
#   Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
#
# C (libjpeg-turbo's SIMD code is x86/Arm assembly; WITH_SIMD is off), -O3, autovectorised for
# wasm SIMD128, with Pictor's wasm SIMD for the 4×4 inverse DCT, YCbCr → RGBA, the fancy
# upsampling of 4:2:0 and 4:2:2 chroma, and the encoder's RGBA → YCbCr and quantisation
# (jsimd_wasm.c). The module imports only env.pj_fail and
# needs no WASI.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=2.1.5
src=${1:-}
fetch=""
gen=$(mktemp -d)
trap 'rm -rf "$gen" $fetch' EXIT
if [ -z "$src" ]; then
  fetch=$(mktemp -d)
  (cd "$fetch" && apt-get source "libjpeg-turbo=1:$version-2")
  src="$fetch/libjpeg-turbo-$version"
fi
[ -f "$src/jdapistd.c" ] || { echo "no libjpeg-turbo source at $src" >&2; exit 1; }

# A copy of the source with one change: wasm32 takes the 64-bit Huffman bit buffer that the x32
# ABI (x86-64 with 32-bit pointers) takes. wasm has native 64-bit integers, and libjpeg-turbo
# otherwise picks the 32-bit buffer whenever size_t is 32 bits, which refills twice as often and
# keeps decode_mcu_fast from running on most MCUs (measured 5–10 % off a 9 MP decode).
cp -R "$src" "$gen/src"
src="$gen/src"
for f in jdhuff.h jdhuff.c jchuff.c; do
  sed -i 's/defined(__x86_64__) && defined(__ILP32__)/(defined(__x86_64__) \&\& defined(__ILP32__)) || defined(__wasm32__)/' "$src/$f"
done
grep -q '__wasm32__' "$src/jdhuff.h" || { echo "the bit-buffer patch did not apply" >&2; exit 1; }
# jsimd_wasm.c (Pictor's, wasm SIMD) implements twelve of the hooks that jsimd_none.c stubs out:
# those stubs are renamed out of its way.
for f in jsimd_can_idct_4x4 jsimd_idct_4x4 jsimd_can_ycc_rgb jsimd_ycc_rgb_convert \
  jsimd_can_h2v2_fancy_upsample jsimd_h2v2_fancy_upsample jsimd_can_h2v1_fancy_upsample \
  jsimd_h2v1_fancy_upsample jsimd_can_rgb_ycc jsimd_rgb_ycc_convert jsimd_can_quantize \
  jsimd_quantize; do
  sed -i "s/^$f(/unused_$f(/" "$src/jsimd_none.c"
  grep -q "^unused_$f(" "$src/jsimd_none.c" || { echo "no stub $f to rename" >&2; exit 1; }
done

# The three headers CMake would generate, for wasm32 (size_t and long are 32 bits).
cat >"$gen/jconfig.h" <<EOF
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  $version
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
#define C_ARITH_CODING_SUPPORTED 1
#define D_ARITH_CODING_SUPPORTED 1
#define MEM_SRCDST_SUPPORTED 1
#define BITS_IN_JSAMPLE  8
EOF
cat >"$gen/jconfigint.h" <<EOF
#define BUILD  "pictor-wasm32"
#undef inline
#define INLINE  __inline__ __attribute__((always_inline))
#define THREAD_LOCAL
#define PACKAGE_NAME  "libjpeg-turbo"
#define VERSION  "$version"
#define SIZEOF_SIZE_T  4
#define HAVE_BUILTIN_CTZL
#define FALLTHROUGH  __attribute__((fallthrough));
EOF
sed 's/@COPYRIGHT_YEAR@/1991-2023/' "$src/jversion.h.in" >"$gen/jversion.h"

# The library's sources (CMakeLists.txt JPEG_SOURCES minus transcoding and ICC helpers), with
# the no-SIMD stubs.
sources="jcapimin.c jcapistd.c jccoefct.c jccolor.c jcdctmgr.c jchuff.c jcinit.c jcmainct.c
  jcmarker.c jcmaster.c jcomapi.c jcparam.c jcphuff.c jcprepct.c jcsample.c jdapimin.c
  jdapistd.c jdatadst.c jdatasrc.c jdcoefct.c jdcolor.c jddctmgr.c jdhuff.c jdinput.c
  jdmainct.c jdmarker.c jdmaster.c jdmerge.c jdphuff.c jdpostct.c jdsample.c jerror.c
  jfdctflt.c jfdctfst.c jfdctint.c jidctflt.c jidctfst.c jidctint.c jidctred.c jquant1.c
  jquant2.c jutils.c jmemmgr.c jmemnobs.c jaricom.c jcarith.c jdarith.c jsimd_none.c"
files=""
for f in $sources; do files="$files $src/$f"; done

# shellcheck disable=SC2086
clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -mmutable-globals \
  -ffunction-sections -fdata-sections -DNO_GETENV -DNO_PUTENV \
  -I"$gen" -I"$src" -Wno-everything \
  -nostartfiles -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all \
  -Wl,--export=__stack_pointer -Wl,--export=__wasm_call_ctors -Wl,--stack-first -Wl,-z,stack-size=1048576 -Wl,--initial-memory=2097152 \
  -o "$here/pictor_jpeg.wasm" "$here/pictor_jpeg.c" "$here/jsimd_wasm.c" $files

# Verbatim, without the .md that would let the formatter rewrite it.
cp "$src/LICENSE.md" "$here/LICENSE"
cp "$src/README.ijg" "$here/README.ijg"
chmod 644 "$here/pictor_jpeg.wasm"
ls -l "$here/pictor_jpeg.wasm"
