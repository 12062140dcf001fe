#!/bin/sh
# Rebuilds argon2.wasm: the Argon2 reference implementation (the PHC winner's C code, CC0 or
# Apache-2.0) as Debian ships it inside the cryptsetup source package (lib/crypto_backend/argon2,
# copied from P-H-C/phc-winner-argon2), compiled with Debian's clang, lld and wasi-libc (no
# Emscripten): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32.
#
#   wasm/argon2/build.sh                            # fetches the source with `apt-get source`
#   wasm/argon2/build.sh /path/to/cryptsetup-2.6.1
#
# `apt-get source` needs a deb-src line for the suite (see wasm/jpeg-scaled/build.sh). Debian's
# own `argon2` source package is the same code, but its orig tarball is missing from the mirrors.
#
# Portable C (ref.c, not the SSE opt.c), single lane without threads: Pictor hashes with p=1. The
# module imports nothing (support.c stands in for sprintf); it exports the library's encoded-hash and verify functions and
# wasi-libc's allocator.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=2.6.1
src=${1:-}
fetch=""
trap 'rm -rf $fetch' EXIT
if [ -z "$src" ]; then
  fetch=$(mktemp -d)
  (cd "$fetch" && apt-get source "cryptsetup=2:$version-4~deb12u2")
  src="$fetch/cryptsetup-$version"
fi
lib="$src/lib/crypto_backend/argon2"
[ -f "$lib/ref.c" ] || { echo "no Argon2 source at $lib" >&2; exit 1; }

exports=""
for f in argon2id_hash_encoded argon2id_verify argon2_encodedlen malloc free; do
  exports="$exports -Wl,--export=$f"
done

# shellcheck disable=SC2086
clang --target=wasm32-wasi -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -mmutable-globals \
  -ffunction-sections -fdata-sections -DARGON2_NO_THREADS -Dsprintf=pictor_sprintf_lu \
  -I"$lib" -I"$lib/blake2" -Wno-everything \
  -nostartfiles -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all $exports \
  -Wl,--stack-first -Wl,-z,stack-size=65536 -Wl,--initial-memory=131072 \
  -o "$here/argon2.wasm" \
  "$here/support.c" "$lib/argon2.c" "$lib/core.c" "$lib/encoding.c" "$lib/ref.c" "$lib/blake2/blake2b.c"

cp "$lib/LICENSE" "$here/LICENSE"
chmod 644 "$here/argon2.wasm"
ls -l "$here/argon2.wasm"
