import { ascii, matches, PNG_SIGNATURE, u16be, u16le, u24le, u32be, u32le } from "../lib/bytes.ts";
import { crc32 } from "../lib/crc32.ts";
import { isoBoxHeader, readAvifMeta } from "./avif.ts";

export const IMAGE_FORMATS = ["jpeg", "png", "webp", "avif"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** The extension a file of each format is saved under. */
export const FILE_EXTENSIONS: Record<ImageFormat, string> = {
  jpeg: "jpg",
  png: "png",
  webp: "webp",
  avif: "avif",
};

export const MEDIA_TYPES: Record<ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
};

export type ImageHeader = {
  format: ImageFormat;
  width: number;
  height: number;
  /** JPEG only: colour components in the frame (1 grey, 3 YCbCr, 4 CMYK/YCCK). */
  components?: number;
  /** JPEG only: bits per sample (8, or 12 and 16 in extended and lossless files). */
  precision?: number;
  /** JPEG only: the frame marker's code, 0xC0–0xCF: the coding process (baseline, progressive…). */
  sof?: number;
};

/**
 * What the first bytes of a file say about it:
 * - `ok`: the format (from magic bytes, never from a name) and the pixel size from the header;
 * - `need-more`: the header continues past the bytes given;
 * - `unsupported`: no known signature;
 * - `corrupt`: a known signature with a header that cannot be right.
 */
export type ProbeResult =
  | ({ kind: "ok" } & ImageHeader)
  | { kind: "need-more" }
  | { kind: "unsupported" }
  | { kind: "corrupt"; reason: string };

const corrupt = (reason: string): ProbeResult => ({ kind: "corrupt", reason });

/**
 * Reads format and dimensions from the start of a file without decoding any pixel, so that a
 * file claiming 100 000 × 100 000 pixels is refused after reading a few dozen bytes.
 * Does not mutate `head`.
 *
 * @example
 * probeImageHeader(firstBytes); // { kind: "ok", format: "png", width: 32, height: 32 }
 */
export function probeImageHeader(head: Uint8Array): ProbeResult {
  if (head.length < 12) {
    const couldBe =
      matches(head, 0, PNG_SIGNATURE.slice(0, head.length)) ||
      matches(head, 0, [0xff, 0xd8].slice(0, head.length)) ||
      matches(head, 0, [0x52, 0x49, 0x46, 0x46].slice(0, Math.min(4, head.length)));
    return couldBe && head.length > 0 ? { kind: "need-more" } : { kind: "unsupported" };
  }
  if (matches(head, 0, PNG_SIGNATURE)) return probePng(head);
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return probeJpeg(head);
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 4) === "WEBP") return probeWebp(head);
  if (ascii(head, 4, 4) === "ftyp" && isAvifBrand(head)) return probeAvif(head);
  return { kind: "unsupported" };
}

const PNG_BIT_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function probePng(b: Uint8Array): ProbeResult {
  if (b.length < 33) return { kind: "need-more" };
  if (u32be(b, 8) !== 13 || ascii(b, 12, 4) !== "IHDR")
    return corrupt("PNG does not start with IHDR");
  if (crc32(b.subarray(12, 29)) !== u32be(b, 29)) return corrupt("PNG IHDR has a bad CRC");
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  const [depth = 0, colorType = 0, compression, filter, interlace] = b.subarray(24, 29);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return corrupt(`PNG has invalid dimensions ${width}×${height}`);
  }
  if (!PNG_BIT_DEPTHS[colorType]?.includes(depth)) {
    return corrupt(`PNG has invalid colour type ${colorType} with bit depth ${depth}`);
  }
  if (compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) {
    return corrupt("PNG IHDR has an unknown compression, filter or interlace method");
  }
  return { kind: "ok", format: "png", width, height };
}

function probeJpeg(b: Uint8Array): ProbeResult {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return corrupt(`JPEG marker expected at byte ${at}`);
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda)
      return corrupt("JPEG has no frame header before its scan");
    const length = u16be(b, at + 2);
    if (length < 2) return corrupt(`JPEG segment at byte ${at} has length ${length}`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) {
      if (at + 10 > b.length) return { kind: "need-more" };
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      if (width === 0 || height === 0)
        return corrupt(`JPEG has invalid dimensions ${width}×${height}`);
      return {
        kind: "ok",
        format: "jpeg",
        width,
        height,
        components: b[at + 9] as number,
        precision: b[at + 4] as number,
        sof: marker,
      };
    }
    at += 2 + length;
  }
  return { kind: "need-more" };
}

function probeWebp(b: Uint8Array): ProbeResult {
  if (b.length < 30) return { kind: "need-more" };
  const chunk = ascii(b, 12, 4);
  let width: number;
  let height: number;
  if (chunk === "VP8 ") {
    if (!matches(b, 23, [0x9d, 0x01, 0x2a])) return corrupt("WebP VP8 frame has no start code");
    width = u16le(b, 26) & 0x3fff;
    height = u16le(b, 28) & 0x3fff;
  } else if (chunk === "VP8L") {
    if (b[20] !== 0x2f) return corrupt("WebP VP8L bitstream has no signature");
    const bits = u32le(b, 21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X") {
    width = u24le(b, 24) + 1;
    height = u24le(b, 27) + 1;
  } else {
    return corrupt(`WebP starts with an unknown chunk ${JSON.stringify(chunk)}`);
  }
  if (width === 0 || height === 0) return corrupt(`WebP has invalid dimensions ${width}×${height}`);
  return { kind: "ok", format: "webp", width, height };
}

function isAvifBrand(b: Uint8Array): boolean {
  const end = Math.min(u32be(b, 0), b.length);
  if (["avif", "avis"].includes(ascii(b, 8, 4))) return true;
  for (let at = 16; at + 4 <= end; at += 4)
    if (["avif", "avis"].includes(ascii(b, at, 4))) return true;
  return false;
}

function probeAvif(b: Uint8Array): ProbeResult {
  const meta = readAvifMeta(b);
  if (meta.kind !== "ok") return meta;
  const { width, height } = meta.primary;
  return { kind: "ok", format: "avif", width, height };
}

/**
 * Checks, without decoding pixels, that a whole file is structurally complete: PNG chunks with
 * valid lengths and CRCs ending in IEND, a JPEG scan followed by an end-of-image marker, WebP chunks
 * that fit in the RIFF container. Returns the reason it is not, or null. Does not mutate `bytes`.
 *
 * @example
 * checkImageStructure("png", truncatedPng); // "PNG chunk IDAT at byte 33 runs past the end of the file"
 */
export function checkImageStructure(format: ImageFormat, bytes: Uint8Array): string | null {
  switch (format) {
    case "png":
      return checkPng(bytes);
    case "jpeg":
      return checkJpeg(bytes);
    case "webp":
      return checkWebp(bytes);
    case "avif":
      return checkIsoBoxes(bytes);
  }
}

function checkIsoBoxes(b: Uint8Array): string | null {
  let at = 0;
  let sawData = false;
  while (at < b.length) {
    if (at + 8 > b.length) return `AVIF box header at byte ${at} is cut off`;
    const { type, size } = isoBoxHeader(b, at, b.length);
    if (size < 8 || at + size > b.length)
      return `AVIF box ${JSON.stringify(type)} at byte ${at} runs past the end`;
    if (type === "mdat") sawData = true;
    at += size;
  }
  return sawData ? null : "AVIF has no media data (mdat) box";
}

function checkPng(b: Uint8Array): string | null {
  let at = 8;
  let sawIdat = false;
  while (at < b.length) {
    if (at + 12 > b.length) return `PNG chunk header at byte ${at} is cut off`;
    const length = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) return `PNG chunk at byte ${at} has an invalid type`;
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > b.length) {
      return `PNG chunk ${type} at byte ${at} runs past the end of the file`;
    }
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== u32be(b, at + 8 + length)) {
      return `PNG chunk ${type} at byte ${at} has a bad CRC`;
    }
    if (type === "IDAT") sawIdat = true;
    if (type === "IEND") return sawIdat ? null : "PNG has no IDAT chunk";
    at = end;
  }
  return "PNG ends without an IEND chunk";
}

function checkJpeg(b: Uint8Array): string | null {
  let at = 2;
  while (at + 4 <= b.length) {
    const marker = b[at + 1] ?? 0;
    if (b[at] !== 0xff) return `JPEG marker expected at byte ${at}`;
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xda) {
      // Inside entropy-coded data 0xFF is always stuffed or a restart marker, so the last
      // FFD9 after the scan header is the end-of-image marker (trailers may follow it).
      for (let i = b.length - 2; i > at; i--) {
        if (b[i] === 0xff && b[i + 1] === 0xd9) return null;
      }
      return "JPEG ends without an end-of-image marker (truncated?)";
    }
    at += 2 + u16be(b, at + 2);
  }
  return "JPEG ends before its first scan";
}

function checkWebp(b: Uint8Array): string | null {
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length)
    return `WebP RIFF container claims ${riffEnd} bytes but the file has ${b.length}`;
  let at = 12;
  while (at < riffEnd) {
    if (at + 8 > riffEnd) return `WebP chunk header at byte ${at} is cut off`;
    const size = u32le(b, at + 4);
    const end = at + 8 + size + (size & 1);
    if (end > riffEnd && at + 8 + size !== riffEnd) {
      return `WebP chunk ${JSON.stringify(ascii(b, at, 4))} at byte ${at} runs past the container`;
    }
    at = end;
  }
  return null;
}
