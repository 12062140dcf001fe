// Slicing-by-8 tables: eight bytes per step keeps a 25 MB PNG check in the tens of milliseconds.
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let s = 1; s < 8; s++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[s * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * CRC-32 (ISO-HDLC, the one PNG, zlib and ZIP use) of `bytes`. Does not mutate its input.
 * Pass the CRC of the bytes before as `previous` to continue it over a stream of chunks.
 *
 * @example
 * crc32(new TextEncoder().encode("IEND")); // 0xae426082
 * crc32(enc("ND"), crc32(enc("IE")));      // 0xae426082 as well
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  let c = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const fast = bytes.length - (bytes.length % 8);
  while (i < fast) {
    const lo =
      c ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24));
    const hi =
      (bytes[i + 4] as number) |
      ((bytes[i + 5] as number) << 8) |
      ((bytes[i + 6] as number) << 16) |
      ((bytes[i + 7] as number) << 24);
    c =
      (t[1792 + (lo & 0xff)] as number) ^
      (t[1536 + ((lo >>> 8) & 0xff)] as number) ^
      (t[1280 + ((lo >>> 16) & 0xff)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (hi & 0xff)] as number) ^
      (t[512 + ((hi >>> 8) & 0xff)] as number) ^
      (t[256 + ((hi >>> 16) & 0xff)] as number) ^
      (t[hi >>> 24] as number);
    i += 8;
  }
  for (; i < bytes.length; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
