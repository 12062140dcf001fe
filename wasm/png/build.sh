#!/bin/sh
# Rebuilds pictor_png.wasm from pictor_png.c and Debian's zlib source package with Debian's clang,
# lld and wasi-libc (no Emscripten): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32.
#
#   wasm/png/build.sh                        # fetches the source with `apt-get source`
#   wasm/png/build.sh /path/to/zlib-1.2.13.dfsg
#
# `apt-get source` needs a deb-src line for the suite (see wasm/jpeg-scaled/build.sh).
# Only zlib's inflate (no gzip wrapper: NO_GZIP), -O3 with wasm SIMD128 for what autovectorises.
# The module imports nothing and needs no WASI.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=1.2.13.dfsg
src=${1:-}
fetch=""
trap 'rm -rf $fetch' EXIT
if [ -z "$src" ]; then
  fetch=$(mktemp -d)
  (cd "$fetch" && apt-get source "zlib=1:$version-1")
  src="$fetch/zlib-$version"
fi
[ -f "$src/inflate.c" ] || { echo "no zlib source at $src" >&2; exit 1; }

# A copy of the source with zlib-wasm.patch applied: inflate_fast with a 64-bit bit buffer
# refilled by one 8-byte load per code (zlib's refills a byte at a time into 32 bits on wasm32,
# where `unsigned long` is 32 bits) and matches copied 8 bytes at a time; inflate() hands it
# over with the wider margins that needs.
gen=$(mktemp -d)
trap 'rm -rf $fetch "$gen"' EXIT
cp -R "$src" "$gen/src"
src="$gen/src"
(cd "$src" && patch -p1 --quiet <"$here/zlib-wasm.patch")

files=""
for f in inflate.c inftrees.c inffast.c adler32.c zutil.c; do files="$files $src/$f"; done

# Pictor's own file held to -Wall -Wextra; zlib's K&R-era sources are compiled as they are.
clang --target=wasm32-wasi -I"$src" -Wall -Wextra -Werror -fsyntax-only "$here/pictor_png.c"
# shellcheck disable=SC2086
clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -mmutable-globals \
  -ffunction-sections -fdata-sections -DNO_GZIP -DHAVE_STDARG_H -DHAVE_UNISTD_H \
  -I"$src" -Wno-everything \
  -nostartfiles -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all -Wl,--export=__wasm_call_ctors \
  -Wl,--stack-first -Wl,-z,stack-size=131072 -Wl,--initial-memory=262144 \
  -o "$here/pictor_png.wasm" "$here/pictor_png.c" $files

# zlib's licence is in its README (and zlib.h); kept verbatim.
cp "$src/README" "$here/README.zlib"
chmod 644 "$here/pictor_png.wasm"
ls -l "$here/pictor_png.wasm"
