#!/bin/sh
# Rebuilds resample.wasm from resample.c with Debian's clang and lld (apt-get install clang lld):
# no libc, no imports, 128-bit SIMD. The caller lays out its buffers from __heap_base on.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -nostdlib \
  -ffreestanding -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--strip-all -Wl,--export=__heap_base -Wl,--stack-first \
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=131072 \
  -o "$here/resample.wasm" "$here/resample.c"
chmod 644 "$here/resample.wasm"
ls -l "$here/resample.wasm"
