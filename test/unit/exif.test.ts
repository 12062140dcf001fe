import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import {
  hasExif,
  type Orientation,
  orientationSteps,
  orientedSize,
  readExifOrientation,
} from "../../src/core/formats/exif.ts";
import { type ImageFormat, probeImageHeader } from "../../src/core/formats/probe.ts";
import { crc32 } from "../../src/core/lib/crc32.ts";
import { fixture, pngsuite } from "../support/fixtures.ts";

const ORIENTATIONS: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];
const FORMATS: ImageFormat[] = ["jpeg", "png", "webp"];
const KINDS = ["Landscape", "Portrait"] as const;
const example = (kind: string, n: number) => fixture(`exif-orientation/${kind}_${n}.jpg`);

// ---------------------------------------------------------------------------------------------
// Builders of tiny synthetic files: only the structure the EXIF reader looks at.

type Order = "II" | "MM";
type Entry = { tag: number; type: number; count: number; value: number };

const orientationEntry = (value: number): Entry => ({ tag: 0x0112, type: 3, count: 1, value });

/** A TIFF header and IFD0 holding `entries`, in byte order `order`. */
function tiff(
  order: Order,
  entries: Entry[],
  options: { magic?: number; ifd?: number; pointer?: number } = {},
) {
  const at = options.ifd ?? 8;
  const out = new Uint8Array(at + 2 + entries.length * 12 + 4);
  const view = new DataView(out.buffer);
  const le = order === "II";
  out.set(new TextEncoder().encode(order), 0);
  view.setUint16(2, options.magic ?? 42, le);
  view.setUint32(4, options.pointer ?? at, le);
  view.setUint16(at, entries.length, le);
  entries.forEach((e, i) => {
    const p = at + 2 + i * 12;
    view.setUint16(p, e.tag, le);
    view.setUint16(p + 2, e.type, le);
    view.setUint32(p + 4, e.count, le);
    // SHORT values sit left-justified in the 4-byte value field, in either byte order.
    if (e.type === 3) view.setUint16(p + 8, e.value, le);
    else view.setUint32(p + 8, e.value, le);
  });
  return out;
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const text = (s: string) => new TextEncoder().encode(s);
const EXIF_PREFIX = text("Exif\0\0");

function jpegSegment(marker: number, payload: Uint8Array) {
  const out = new Uint8Array(4 + payload.length);
  out.set([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  out.set(payload, 4);
  return out;
}
const SOF0 = jpegSegment(0xc0, new Uint8Array([8, 0, 2, 0, 3, 1, 1, 0x11, 0]));
const SOS = concat(
  jpegSegment(0xda, new Uint8Array([1, 1, 0, 0, 0x3f, 0])),
  new Uint8Array([0x12, 0x34]),
);
const EOI = new Uint8Array([0xff, 0xd9]);

/** SOI, the given segments, a frame header, a scan and EOI. */
const jpeg = (...segments: Uint8Array[]) =>
  concat(new Uint8Array([0xff, 0xd8]), ...segments, SOF0, SOS, EOI);
const exifApp1 = (t: Uint8Array) => jpegSegment(0xe1, concat(EXIF_PREFIX, t));

function pngChunk(type: string, data: Uint8Array, options: { badCrc?: boolean } = {}) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(text(type), 4);
  out.set(data, 8);
  view.setUint32(
    8 + data.length,
    crc32(out.subarray(4, 8 + data.length)) ^ (options.badCrc ? 1 : 0),
  );
  return out;
}
const IHDR = pngChunk("IHDR", new Uint8Array([0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0]));
const IDAT = pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
const IEND = pngChunk("IEND", new Uint8Array(0));
const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Signature, IHDR, the chunks that go before IDAT, IDAT, those after, IEND. */
const png = (before: Uint8Array[], after: Uint8Array[] = []) =>
  concat(PNG_SIGNATURE, IHDR, ...before, IDAT, ...after, IEND);

function riffChunk(type: string, data: Uint8Array) {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  out.set(text(type));
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}
const VP8_DATA = new Uint8Array([0x30, 0x01, 0, 0x9d, 0x01, 0x2a, 3, 0, 2, 0, 0, 0]);
const vp8x = (flags: number) =>
  riffChunk("VP8X", new Uint8Array([flags, 0, 0, 0, 2, 0, 0, 1, 0, 0]));

/** RIFF/WEBP with the given chunks (an extended file when the first is VP8X). */
function webp(...chunks: Uint8Array[]) {
  const body = concat(text("WEBP"), ...chunks);
  const head = concat(text("RIFF"), new Uint8Array(4));
  new DataView(head.buffer).setUint32(4, body.length, true);
  return concat(head, body);
}
const EXIF_FLAG = 0x08;
const ICC_FLAG = 0x20;

/** A file of `format` whose EXIF block is the TIFF structure `t`, written as writers do. */
function withExif(format: ImageFormat, t: Uint8Array, prefixed = format === "webp") {
  const payload = prefixed ? concat(EXIF_PREFIX, t) : t;
  if (format === "jpeg") {
    return jpeg(jpegSegment(0xe0, text("JFIF\0\x01\x01\0\0\x01\0\x01\0\0")), exifApp1(t));
  }
  if (format === "png") return png([pngChunk("eXIf", payload)]);
  return webp(vp8x(EXIF_FLAG), riffChunk("VP8 ", VP8_DATA), riffChunk("EXIF", payload));
}

/** Mulberry32: a seeded generator, so that a failing fuzz case can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Tiny raster helpers on plain arrays, independent of the project's kernels.

type Grid = { width: number; height: number; px: Uint8Array };

const at = (g: Grid, row: number, col: number) => g.px[row * g.width + col] as number;

function rotateClockwise(g: Grid): Grid {
  const out = { width: g.height, height: g.width, px: new Uint8Array(g.px.length) };
  // The top row of the result is the left column of the source, read bottom to top.
  for (let r = 0; r < out.height; r++)
    for (let c = 0; c < out.width; c++) out.px[r * out.width + c] = at(g, g.height - 1 - c, r);
  return out;
}

function flopGrid(g: Grid): Grid {
  const out = { width: g.width, height: g.height, px: new Uint8Array(g.px.length) };
  for (let r = 0; r < g.height; r++)
    for (let c = 0; c < g.width; c++) out.px[r * g.width + c] = at(g, r, g.width - 1 - c);
  return out;
}

function applySteps(g: Grid, o: Orientation): Grid {
  const { rotate, flop } = orientationSteps(o);
  let out = g;
  for (let turn = 0; turn < rotate / 90; turn++) out = rotateClockwise(out);
  return flop ? flopGrid(out) : out;
}

/**
 * TIFF 6.0, tag 274 (Orientation), the normative definition: on which side of the picture as it
 * should be seen lie the stored 0th row and the stored 0th column.
 */
const DEFINITION: Record<Orientation, [row0: string, col0: string]> = {
  1: ["top", "left"],
  2: ["top", "right"],
  3: ["bottom", "right"],
  4: ["bottom", "left"],
  5: ["left", "top"],
  6: ["right", "top"],
  7: ["right", "bottom"],
  8: ["left", "bottom"],
};

/**
 * The pixels a camera stores for the `upright` picture under orientation `o`: the inverse of the
 * definition, each stored (row, column) fetching the visual pixel the definition puts it on.
 */
function storedFor(upright: Grid, o: Orientation): Grid {
  const [row0, col0] = DEFINITION[o];
  const { width: W, height: H } = upright;
  const sideways = row0 === "left" || row0 === "right";
  const out = sideways
    ? { width: H, height: W, px: new Uint8Array(W * H) }
    : { width: W, height: H, px: new Uint8Array(W * H) };
  for (let r = 0; r < out.height; r++) {
    for (let c = 0; c < out.width; c++) {
      // Stored row r is the r-th line counted from the row-0 side; column c likewise.
      const [vr, vc] = sideways
        ? [col0 === "top" ? c : H - 1 - c, row0 === "left" ? r : W - 1 - r]
        : [row0 === "top" ? r : H - 1 - r, col0 === "left" ? c : W - 1 - c];
      out.px[r * out.width + c] = at(upright, vr, vc);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe("orientationSteps", () => {
  test("is the table derived from the EXIF definition", () => {
    expect(ORIENTATIONS.map((o) => [o, orientationSteps(o)])).toEqual([
      [1, { rotate: 0, flop: false }],
      [2, { rotate: 0, flop: true }],
      [3, { rotate: 180, flop: false }],
      [4, { rotate: 180, flop: true }],
      [5, { rotate: 90, flop: true }],
      [6, { rotate: 90, flop: false }],
      [7, { rotate: 270, flop: true }],
      [8, { rotate: 270, flop: false }],
    ]);
  });

  test("turns the stored pixels of a 3×2 grid upright for every orientation", () => {
    // 0 1 2
    // 3 4 5
    const upright: Grid = { width: 3, height: 2, px: new Uint8Array([0, 1, 2, 3, 4, 5]) };
    const stored = Object.fromEntries(ORIENTATIONS.map((o) => [o, storedFor(upright, o)]));
    // Spot-check the derivation itself against the plain-language descriptions.
    expect(stored[1]?.px).toEqual(new Uint8Array([0, 1, 2, 3, 4, 5]));
    expect(stored[2]?.px).toEqual(new Uint8Array([2, 1, 0, 5, 4, 3])); // mirrored
    expect(stored[3]?.px).toEqual(new Uint8Array([5, 4, 3, 2, 1, 0])); // upside down
    expect(stored[4]?.px).toEqual(new Uint8Array([3, 4, 5, 0, 1, 2])); // flipped
    expect(stored[5]?.px).toEqual(new Uint8Array([0, 3, 1, 4, 2, 5])); // transposed
    expect(stored[6]?.px).toEqual(new Uint8Array([2, 5, 1, 4, 0, 3])); // camera turned right
    expect(stored[8]?.px).toEqual(new Uint8Array([3, 0, 4, 1, 5, 2])); // camera turned left
    for (const o of ORIENTATIONS) {
      const s = stored[o] as Grid;
      expect(orientedSize(s.width, s.height, o)).toEqual({ width: 3, height: 2 });
      const shown = applySteps(s, o);
      expect([o, shown.width, shown.height, [...shown.px]]).toEqual([o, 3, 2, [0, 1, 2, 3, 4, 5]]);
    }
  });

  test("no other orientation's steps would do: each table row is the only one that works", () => {
    const upright: Grid = { width: 3, height: 2, px: new Uint8Array([0, 1, 2, 3, 4, 5]) };
    for (const o of ORIENTATIONS) {
      const s = storedFor(upright, o);
      const working = ORIENTATIONS.filter((other) => {
        const shown = applySteps(s, other);
        return shown.width === 3 && shown.px.every((v, i) => v === upright.px[i]);
      });
      expect(working).toEqual([o]);
    }
  });

  test("turns the real example photos upright (decoded by sharp, compared with *_1)", async () => {
    const grey = async (kind: string, n: number): Promise<Grid> => {
      const { data, info } = await sharp(await example(kind, n))
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, px: new Uint8Array(data) };
    };
    const meanDifference = (a: Grid, b: Grid) => {
      if (a.width !== b.width || a.height !== b.height) return Number.POSITIVE_INFINITY;
      let sum = 0;
      for (let i = 0; i < a.px.length; i++) sum += Math.abs((a.px[i] ?? 0) - (b.px[i] ?? 0));
      return sum / a.px.length;
    };
    for (const kind of KINDS) {
      const reference = await grey(kind, 1);
      for (const o of ORIENTATIONS) {
        const stored = await grey(kind, o);
        const right = meanDifference(applySteps(stored, o), reference);
        // The examples were re-encoded after turning: about 3 levels of JPEG noise remain.
        expect([kind, o, right < 5]).toEqual([kind, o, true]);
        // Each differently-oriented candidate that keeps the size is far off: the check has teeth.
        for (const other of ORIENTATIONS.filter((x) => x !== o)) {
          const wrong = meanDifference(applySteps(stored, other), reference);
          expect([kind, o, other, wrong > 5 * right + 10]).toEqual([kind, o, other, true]);
        }
      }
    }
  }, 30_000);
});

describe("orientedSize", () => {
  test("swaps width and height for 5–8 only", () => {
    expect(ORIENTATIONS.map((o) => orientedSize(1200, 800, o))).toEqual([
      ...Array(4).fill({ width: 1200, height: 800 }),
      ...Array(4).fill({ width: 800, height: 1200 }),
    ]);
  });
});

describe("readExifOrientation on the example photos", () => {
  test("Landscape_N and Portrait_N report N, and 0 (not a valid value) reads as 1", async () => {
    for (const kind of KINDS) {
      for (let n = 0; n <= 8; n++) {
        const bytes = await example(kind, n);
        expect([kind, n, readExifOrientation(bytes, "jpeg"), hasExif(bytes, "jpeg")]).toEqual([
          kind,
          n,
          n === 0 ? 1 : n,
          true,
        ]);
      }
    }
  });

  test("*_0 really holds an Orientation tag of value 0, big-endian, not a missing tag", async () => {
    for (const kind of KINDS) {
      const head = Buffer.from((await example(kind, 0)).subarray(0, 200));
      expect(head.indexOf(Buffer.from("Exif\0\0MM\0\x2a", "latin1"))).toBeGreaterThan(0);
      // tag 0x0112, type SHORT, count 1, value 0
      expect(head.indexOf(Buffer.from("01120003000000010000", "hex"))).toBeGreaterThan(0);
    }
  });

  test("their display size, from the header and the orientation, is the size of *_1", async () => {
    const sizeOf = async (kind: string, n: number) => {
      const bytes = await example(kind, n);
      const header = probeImageHeader(bytes);
      if (header.kind !== "ok") throw new Error(`${kind}_${n}: ${header.kind}`);
      return orientedSize(header.width, header.height, readExifOrientation(bytes, "jpeg"));
    };
    expect(await sizeOf("Landscape", 1)).toEqual({ width: 1800, height: 1200 });
    expect(await sizeOf("Portrait", 1)).toEqual({ width: 1200, height: 1800 });
    for (const kind of KINDS) {
      const upright = await sizeOf(kind, 1);
      for (let n = 0; n <= 8; n++)
        expect([kind, n, await sizeOf(kind, n)]).toEqual([kind, n, upright]);
    }
  });

  test("reads sharp's WebP (EXIF chunk with an Exif prefix) and PNG (eXIf chunk) outputs", async () => {
    const webpFile = await fixture("generated/landscape-120-orientation-6.webp");
    const pngFile = await fixture("generated/landscape-120-orientation-6.png");
    expect(readExifOrientation(webpFile, "webp")).toBe(6);
    expect(readExifOrientation(pngFile, "png")).toBe(6);
    expect(hasExif(webpFile, "webp")).toBe(true);
    expect(hasExif(pngFile, "png")).toBe(true);
  });

  test("files without EXIF read as 1 and have none", async () => {
    for (const [file, format] of [
      [await fixture("generated/landscape-240.webp"), "webp"],
      [await fixture("generated/landscape-120-lossless.webp"), "webp"],
      [await pngsuite("basn2c08.png"), "png"],
    ] as const) {
      expect(readExifOrientation(file, format)).toBe(1);
      expect(hasExif(file, format)).toBe(false);
    }
  });
});

describe("readExifOrientation on synthetic files", () => {
  test("every value, both byte orders, every container", () => {
    for (const format of FORMATS) {
      for (const order of ["II", "MM"] as const) {
        for (const o of ORIENTATIONS) {
          const file = withExif(format, tiff(order, [orientationEntry(o)]));
          expect([format, order, readExifOrientation(file, format), hasExif(file, format)]).toEqual(
            [format, order, o, true],
          );
        }
      }
    }
  });

  test("accepts a WebP EXIF or PNG eXIf payload with or without the Exif prefix", () => {
    for (const format of ["webp", "png"] as const) {
      for (const prefixed of [true, false]) {
        const file = withExif(format, tiff("II", [orientationEntry(7)]), prefixed);
        expect([format, prefixed, readExifOrientation(file, format)]).toEqual([
          format,
          prefixed,
          7,
        ]);
      }
    }
  });

  test("finds the tag among others in IFD0, past fill bytes and an XMP APP1", () => {
    const t = tiff("MM", [
      { tag: 0x010f, type: 2, count: 4, value: 0x41424300 }, // Make "ABC"
      { tag: 0x011a, type: 5, count: 1, value: 200 }, // XResolution (offset, not followed)
      orientationEntry(8),
      { tag: 0x8769, type: 4, count: 1, value: 300 }, // ExifIFD pointer
    ]);
    const xmp = jpegSegment(0xe1, text("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"));
    const file = concat(
      new Uint8Array([0xff, 0xd8, 0xff, 0xff]), // SOI and a fill byte
      xmp,
      exifApp1(t),
      SOF0,
      SOS,
      EOI,
    );
    expect(readExifOrientation(file, "jpeg")).toBe(8);
    // IFD0 need not follow the header: here it starts at byte 40, after a gap.
    const gap = jpeg(exifApp1(tiff("MM", [orientationEntry(3)], { ifd: 40 })));
    expect(readExifOrientation(gap, "jpeg")).toBe(3);
    expect(readExifOrientation(jpeg(exifApp1(tiff("II", [orientationEntry(2)]))), "jpeg")).toBe(2);
  });

  test("WebP with an ICC profile before the EXIF chunk, and chunks of odd size", () => {
    const file = webp(
      vp8x(EXIF_FLAG | ICC_FLAG),
      riffChunk("ICCP", new Uint8Array(131)),
      riffChunk("VP8 ", VP8_DATA),
      riffChunk("EXIF", concat(EXIF_PREFIX, tiff("II", [orientationEntry(5)]))),
    );
    expect(readExifOrientation(file, "webp")).toBe(5);
  });

  test("invalid values, wrong types and broken TIFF headers read as 1", () => {
    const broken: [string, Uint8Array][] = [
      ["value 0", tiff("II", [orientationEntry(0)])],
      ["value 9", tiff("MM", [orientationEntry(9)])],
      ["value 65535", tiff("MM", [orientationEntry(0xffff)])],
      ["LONG instead of SHORT", tiff("II", [{ tag: 0x0112, type: 4, count: 1, value: 6 }])],
      ["count 2", tiff("II", [{ tag: 0x0112, type: 3, count: 2, value: 6 }])],
      ["no orientation tag", tiff("II", [{ tag: 0x010f, type: 2, count: 4, value: 0 }])],
      ["empty IFD0", tiff("MM", [])],
      ["magic 43", tiff("II", [orientationEntry(6)], { magic: 43 })],
      ["byte order IM", concat(text("IM"), tiff("II", [orientationEntry(6)]).subarray(2))],
      ["IFD0 offset 4, inside the header", tiff("II", [orientationEntry(6)], { pointer: 4 })],
      ["IFD0 offset past the end", tiff("MM", [orientationEntry(6)], { pointer: 5000 })],
      ["empty", new Uint8Array(0)],
    ];
    for (const format of FORMATS) {
      for (const [why, t] of broken) {
        expect([format, why, readExifOrientation(withExif(format, t), format)]).toEqual([
          format,
          why,
          1,
        ]);
      }
    }
  });

  test("an IFD0 count larger than the block stops at its end; entries past the count are not read", () => {
    const make = 0x010f;
    const t = tiff("II", [orientationEntry(6)]);
    t[8] = 50; // claims 50 entries and holds 1: found before running out of bytes
    expect(readExifOrientation(withExif("jpeg", t), "jpeg")).toBe(6);
    const none = tiff("MM", [{ tag: make, type: 2, count: 4, value: 0 }]);
    none[8] = 0xff; // claims 65 535 entries, holds 1, none of them the orientation
    none[9] = 0xff;
    expect(readExifOrientation(withExif("jpeg", none), "jpeg")).toBe(1);
    const late = tiff("II", [{ tag: make, type: 2, count: 4, value: 0 }, orientationEntry(6)]);
    late[8] = 1; // the second entry lies beyond the declared count: not part of IFD0
    expect(readExifOrientation(withExif("jpeg", late), "jpeg")).toBe(1);
  });

  test("EXIF where decoders ignore it reads as 1 but still counts for hasExif", () => {
    const t = tiff("MM", [orientationEntry(6)]);
    const cases: [ImageFormat, string, Uint8Array][] = [
      ["png", "eXIf after IDAT", png([], [pngChunk("eXIf", t)])],
      ["png", "eXIf with a bad CRC", png([pngChunk("eXIf", t, { badCrc: true })])],
      [
        "webp",
        "EXIF chunk without the VP8X flag",
        webp(vp8x(0), riffChunk("VP8 ", VP8_DATA), riffChunk("EXIF", t)),
      ],
      [
        "webp",
        "EXIF chunk in a simple-format file",
        webp(riffChunk("VP8 ", VP8_DATA), riffChunk("EXIF", t)),
      ],
      ["jpeg", "Exif APP1 after the scan", concat(jpeg(), exifApp1(t))],
      ["jpeg", "EXIF only in a second image appended (MPF)", concat(jpeg(), jpeg(exifApp1(t)))],
    ];
    for (const [format, why, file] of cases) {
      expect([why, readExifOrientation(file, format), hasExif(file, format)]).toEqual([
        why,
        1,
        true,
      ]);
    }
  });

  test("the wrong container for the bytes reads as 1 and has no EXIF", () => {
    const file = withExif("jpeg", tiff("II", [orientationEntry(6)]));
    expect(readExifOrientation(file, "png")).toBe(1);
    expect(readExifOrientation(file, "webp")).toBe(1);
    expect(hasExif(file, "png")).toBe(false);
  });

  test("hasExif is false without any EXIF block, even with a VP8X flag that lies", () => {
    expect(hasExif(jpeg(jpegSegment(0xe1, text("http://ns.adobe.com/xap/1.0/\0"))), "jpeg")).toBe(
      false,
    );
    expect(hasExif(png([pngChunk("tEXt", text("Comment\0hi"))]), "png")).toBe(false);
    expect(hasExif(webp(vp8x(EXIF_FLAG), riffChunk("VP8 ", VP8_DATA)), "webp")).toBe(false);
    expect(readExifOrientation(webp(vp8x(EXIF_FLAG), riffChunk("VP8 ", VP8_DATA)), "webp")).toBe(1);
  });
});

describe("readExifOrientation on truncated and corrupted input", () => {
  test("every prefix of a synthetic file reads as 1 until the tag's value is complete", () => {
    for (const format of FORMATS) {
      const file = withExif(format, tiff("MM", [orientationEntry(6)]));
      const results = new Set<number>();
      for (let n = 0; n <= file.length; n++) {
        const o = readExifOrientation(file.subarray(0, n), format);
        results.add(o);
        expect(typeof hasExif(file.subarray(0, n), format)).toBe("boolean");
      }
      expect([format, [...results].sort()]).toEqual([format, [1, 6]]);
      expect(readExifOrientation(file, format)).toBe(6);
    }
  });

  test("a few hundred random truncations and byte flips of real files never throw", async () => {
    const next = random(0x5eed);
    const sources: [ImageFormat, Uint8Array][] = [
      ["jpeg", (await example("Landscape", 6)).slice(0, 64 * 1024)],
      ["jpeg", (await example("Portrait", 3)).slice(0, 64 * 1024)],
      ["webp", await fixture("generated/landscape-120-orientation-6.webp")],
      ["png", await fixture("generated/landscape-120-orientation-6.png")],
    ];
    let runs = 0;
    for (const [format, source] of sources) {
      for (let i = 0; i < 150; i++) {
        const copy = source.slice(0, 1 + Math.floor(next() * source.length));
        const flips = 1 + Math.floor(next() * 8);
        for (let f = 0; f < flips; f++) {
          // Most flips land in the first few hundred bytes, where the headers and EXIF live.
          const span = next() < 0.8 ? Math.min(copy.length, 400) : copy.length;
          copy[Math.floor(next() * span)] = Math.floor(next() * 256);
        }
        const o = readExifOrientation(copy, format);
        expect(ORIENTATIONS).toContain(o);
        expect(typeof hasExif(copy, format)).toBe("boolean");
        runs++;
      }
    }
    expect(runs).toBe(600);
  });
});
