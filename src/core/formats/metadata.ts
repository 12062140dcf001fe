import { ascii, concatBytes, u32le } from "../lib/bytes.ts";
import { crc32 } from "../lib/crc32.ts";

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

export class MetadataError extends Error {
  override readonly name = "MetadataError";
}

const concat = (...parts: Uint8Array[]) => concatBytes(parts);

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(value / 256 ** i) % 256;
  return out;
}

function be32(value: number): Uint8Array {
  return le(value, 4).reverse();
}

/**
 * Puts an EXIF block (a TIFF structure) into an encoded JPEG, PNG or WebP, where each format's
 * readers look for it: an APP1 segment right after SOI, an eXIf chunk before the image data, or
 * an EXIF chunk flagged in VP8X. Does not mutate its inputs.
 *
 * @example
 * const out = embedExif(encodedJpeg, "jpeg", readExifBlock(original, "jpeg"));
 */
export function embedExif(
  bytes: Uint8Array,
  format: "jpeg" | "png" | "webp",
  tiff: Uint8Array,
): Uint8Array {
  switch (format) {
    case "jpeg": {
      const length = 2 + EXIF_HEADER.length + tiff.length;
      if (length > 0xffff)
        throw new MetadataError("The EXIF block is too large for a JPEG APP1 segment");
      const segment = concat(
        new Uint8Array([0xff, 0xe1, length >> 8, length & 0xff, ...EXIF_HEADER]),
        tiff,
      );
      return concat(bytes.subarray(0, 2), segment, bytes.subarray(2));
    }
    case "png": {
      // Right after IHDR (8-byte signature + 25-byte chunk): before IDAT, as PNG readers require.
      const body = concat(latin1("eXIf"), tiff);
      const chunk = concat(be32(tiff.length), body, be32(crc32(body)));
      return concat(bytes.subarray(0, 33), chunk, bytes.subarray(33));
    }
    case "webp":
      return embedWebpExif(bytes, tiff);
  }
}

function embedWebpExif(b: Uint8Array, tiff: Uint8Array): Uint8Array {
  const exifChunk = concat(
    latin1("EXIF"),
    le(tiff.length, 4),
    tiff,
    new Uint8Array(tiff.length & 1),
  );
  const first = ascii(b, 12, 4);
  let vp8x: Uint8Array;
  let rest: Uint8Array;
  if (first === "VP8X") {
    vp8x = b.slice(12, 30);
    rest = b.subarray(30);
  } else {
    // A simple WebP has no VP8X header to carry the EXIF flag: make one, with the canvas size of
    // its only frame and, for lossless, its alpha bit.
    let width: number;
    let height: number;
    let alpha = false;
    if (first === "VP8L") {
      const bits = u32le(b, 21);
      width = (bits & 0x3fff) + 1;
      height = ((bits >>> 14) & 0x3fff) + 1;
      alpha = ((bits >>> 28) & 1) === 1;
    } else {
      width = ((b[26] ?? 0) | ((b[27] ?? 0) << 8)) & 0x3fff;
      height = ((b[28] ?? 0) | ((b[29] ?? 0) << 8)) & 0x3fff;
    }
    vp8x = concat(
      latin1("VP8X"),
      le(10, 4),
      new Uint8Array([alpha ? 0x10 : 0, 0, 0, 0]),
      le(width - 1, 3),
      le(height - 1, 3),
    );
    rest = b.subarray(12);
  }
  vp8x[8] = (vp8x[8] as number) | 0x08; // the EXIF flag
  const payload = concat(latin1("WEBP"), vp8x, rest, exifChunk);
  return concat(latin1("RIFF"), le(payload.length, 4), payload);
}
