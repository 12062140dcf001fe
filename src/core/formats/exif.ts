import { ascii, matches, PNG_SIGNATURE, u16be, u16le, u32be, u32le } from "../lib/bytes.ts";
import { crc32 } from "../lib/crc32.ts";
import type { ImageFormat } from "./probe.ts";

/**
 * EXIF/TIFF Orientation (tag 0x0112): where the stored image's first row and first column lie in
 * the picture as it should be seen. 1 is upright; 2–4 mirror or turn it without changing its size;
 * 5–8 swap width and height.
 */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** What turns a stored image upright: rotate clockwise by `rotate` degrees, then `flop`. */
export type OrientationSteps = { rotate: 0 | 90 | 180 | 270; flop: boolean };

const ORIENTATION_TAG = 0x0112;
const TIFF_SHORT = 3;
const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

const isOrientation = (n: number): n is Orientation => Number.isInteger(n) && n >= 1 && n <= 8;

/**
 * The Orientation of an image from its EXIF block: JPEG APP1 "Exif" segment before the first scan,
 * PNG `eXIf` chunk before IDAT, WebP `EXIF` chunk announced by the VP8X header. Returns 1 when there
 * is no EXIF, no orientation tag, or anything is malformed, truncated or out of range (0 occurs in
 * the wild): a broken EXIF block must never make an upload fail, and every read is bounds-checked. Does not mutate `bytes`.
 *
 * @example
 * readExifOrientation(await Bun.file("Landscape_6.jpg").bytes(), "jpeg"); // 6
 * readExifOrientation(new Uint8Array(0), "png"); // 1
 */
export function readExifOrientation(bytes: Uint8Array, format: ImageFormat): Orientation {
  const tiff = findExif(bytes, format, true);
  if (!tiff) return 1;
  const value = readTiffOrientation(tiff);
  return value !== null && isOrientation(value) ? value : 1;
}

/**
 * Whether the file carries an EXIF block at all, wherever it is and whatever its content (an empty
 * or unparsable block still counts): what proves that outputs were stripped of camera metadata such
 * as GPS positions. In a JPEG it looks past the first scan too, where phones append a second,
 * full-size image with its own EXIF (CIPA DC-007 Multi-Picture Format). Does not mutate `bytes`.
 *
 * @example
 * hasExif(await Bun.file("Landscape_1.jpg").bytes(), "jpeg"); // true
 */
export function hasExif(bytes: Uint8Array, format: ImageFormat): boolean {
  return findExif(bytes, format, false) !== null;
}

/**
 * The steps that display an image stored with orientation `o` upright, in this order: rotate
 * clockwise by `rotate` degrees, then flop (mirror left↔right) if `flop`. Derived from the TIFF 6.0
 * definition of tag 274 (which visual side the stored first row and first column lie on) and proven
 * on a pixel grid in test/unit/exif.test.ts.
 *
 * @example
 * orientationSteps(6); // { rotate: 90, flop: false }
 * orientationSteps(5); // { rotate: 90, flop: true }: a transpose
 */
export function orientationSteps(o: Orientation): OrientationSteps {
  return STEPS[o];
}

const STEPS: Record<Orientation, OrientationSteps> = {
  1: { rotate: 0, flop: false }, // row 0 top, column 0 left
  2: { rotate: 0, flop: true }, // row 0 top, column 0 right
  3: { rotate: 180, flop: false }, // row 0 bottom, column 0 right
  4: { rotate: 180, flop: true }, // row 0 bottom, column 0 left: a flip, as 180° then flop
  5: { rotate: 90, flop: true }, // row 0 left, column 0 top: a transpose
  6: { rotate: 90, flop: false }, // row 0 right, column 0 top
  7: { rotate: 270, flop: true }, // row 0 right, column 0 bottom: a transverse
  8: { rotate: 270, flop: false }, // row 0 left, column 0 bottom
};

/**
 * The size an image of `width` × `height` stored pixels is displayed at under orientation `o`:
 * swapped for 5–8, which turn it by a quarter.
 *
 * @example
 * orientedSize(1200, 1800, 6); // { width: 1800, height: 1200 }
 */
export function orientedSize(
  width: number,
  height: number,
  o: Orientation,
): { width: number; height: number } {
  return o >= 5 ? { width: height, height: width } : { width, height };
}

/**
 * The TIFF payload of the file's EXIF block, cut to the bytes actually present, or null.
 * `strict` is what orientation reading wants (only blocks a browser would honour); without it any
 * block that is there counts.
 */
function findExif(b: Uint8Array, format: ImageFormat, strict: boolean): Uint8Array | null {
  if (format === "jpeg") return strict ? findJpegExif(b) : findAnyJpegExif(b);
  return format === "png" ? findPngExif(b, strict) : findWebpExif(b, strict);
}

function findJpegExif(b: Uint8Array): Uint8Array | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // standalone markers carry no length
      continue;
    }
    // EXIF is one of the header segments; past SOS the bytes are entropy-coded, so stop there.
    if (marker === 0xda || marker === 0xd9) return null;
    const length = u16be(b, at + 2);
    if (length < 2) return null;
    const end = Math.min(at + 2 + length, b.length);
    // Other APP1 segments hold XMP ("http://ns.adobe.com/xap/1.0/\0"): skip them, first Exif wins.
    if (marker === 0xe1 && matches(b, at + 4, EXIF_PREFIX)) return b.subarray(at + 10, end);
    at += 2 + length;
  }
  return null;
}

// Entropy-coded data stuffs every 0xFF with 0x00 or a restart marker, so an FFE1 followed by
// "Exif\0\0" can only be a real APP1 segment, of the main image or of one embedded after it.
function findAnyJpegExif(b: Uint8Array): Uint8Array | null {
  for (let at = b.indexOf(0xff); at !== -1 && at + 10 <= b.length; at = b.indexOf(0xff, at + 1)) {
    if (b[at + 1] === 0xe1 && matches(b, at + 4, EXIF_PREFIX)) {
      return b.subarray(at + 10, Math.min(at + 2 + u16be(b, at + 2), b.length));
    }
  }
  return null;
}

function findPngExif(b: Uint8Array, strict: boolean): Uint8Array | null {
  if (!matches(b, 0, PNG_SIGNATURE)) return null;
  let at = 8;
  while (at + 8 <= b.length) {
    const length = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    const end = at + 12 + length;
    if (type === "eXIf") {
      if (!strict) return b.subarray(at + 8, Math.min(at + 8 + length, b.length));
      // Decoders (libpng by default) discard an ancillary chunk whose CRC is wrong: so do we.
      if (
        end > b.length ||
        crc32(b.subarray(at + 4, at + 8 + length)) !== u32be(b, at + 8 + length)
      )
        return null;
      return stripExifPrefix(b.subarray(at + 8, at + 8 + length));
    }
    // PNG 3rd edition requires eXIf before IDAT and browsers ignore it after (w3c/png#146, #447).
    if (type === "IEND" || (strict && type === "IDAT")) return null;
    at = end;
  }
  return null;
}

function findWebpExif(b: Uint8Array, strict: boolean): Uint8Array | null {
  if (ascii(b, 0, 4) !== "RIFF" || ascii(b, 8, 4) !== "WEBP") return null;
  const riffEnd = Math.min(8 + u32le(b, 4), b.length);
  // The extended format announces its EXIF chunk in the VP8X flags (WebP container spec, bit E);
  // a simple-format file (VP8 / VP8L first) cannot carry one that decoders would read.
  const announced = ascii(b, 12, 4) === "VP8X" && ((b[20] ?? 0) & 0x08) !== 0;
  if (strict && !announced) return null;
  let at = 12;
  while (at + 8 <= riffEnd) {
    const size = u32le(b, at + 4);
    if (ascii(b, at, 4) === "EXIF") {
      return stripExifPrefix(b.subarray(at + 8, Math.min(at + 8 + size, riffEnd)));
    }
    at += 8 + size + (size & 1); // chunks are padded to an even size
  }
  return null;
}

// The WebP container spec has the EXIF chunk start with the TIFF header, yet libvips (so sharp)
// writes the JPEG-style "Exif\0\0" before it; PNG eXIf writers may have copied the same habit.
// Either way the TIFF header that follows is unambiguous, so accept both.
const stripExifPrefix = (payload: Uint8Array) =>
  matches(payload, 0, EXIF_PREFIX) ? payload.subarray(EXIF_PREFIX.length) : payload;

/**
 * Where the Orientation value sits in IFD0 of a TIFF structure, and its byte order; null if the
 * tag is absent or unreadable.
 */
function orientationSlot(t: Uint8Array): { at: number; littleEndian: boolean } | null {
  if (t.length < 8) return null;
  const order = ascii(t, 0, 2);
  if (order !== "II" && order !== "MM") return null;
  const littleEndian = order === "II";
  const u16 = littleEndian ? u16le : u16be;
  const u32 = littleEndian ? u32le : u32be;
  if (u16(t, 2) !== 42) return null;
  const ifd = u32(t, 4);
  if (ifd < 8 || ifd + 2 > t.length) return null;
  const count = u16(t, ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > t.length) return null;
    if (u16(t, entry) !== ORIENTATION_TAG) continue;
    // Like WebKit/Blink's readImageOrientation, take only a single SHORT, which TIFF stores inline
    // in the first two bytes of the value field, so that we rotate exactly when browsers do.
    if (u16(t, entry + 2) === TIFF_SHORT && u32(t, entry + 4) === 1)
      return { at: entry + 8, littleEndian };
  }
  return null;
}

function readTiffOrientation(t: Uint8Array): number | null {
  const slot = orientationSlot(t);
  if (!slot) return null;
  return (slot.littleEndian ? u16le : u16be)(t, slot.at);
}

/**
 * The EXIF block of a file (its TIFF structure), as the orientation reader finds it, or null.
 * Does not mutate `bytes`; the result is a view into it.
 *
 * @example
 * readExifBlock(jpegWithGps, "jpeg"); // Uint8Array starting "MM\0*" or "II*\0"
 */
export function readExifBlock(bytes: Uint8Array, format: ImageFormat): Uint8Array | null {
  return findExif(bytes, format, true);
}

/**
 * A copy of a TIFF/EXIF block whose Orientation tag (if any) says `o`: once the pixels have been
 * turned upright, a kept EXIF block must not ask viewers to turn them again.
 *
 * @example
 * readTiffOrientation(withOrientation(tiff, 1)); // 1
 */
export function withOrientation(tiff: Uint8Array, o: Orientation): Uint8Array {
  const copy = tiff.slice();
  const slot = orientationSlot(copy);
  if (slot) new DataView(copy.buffer).setUint16(slot.at, o, slot.littleEndian);
  return copy;
}
