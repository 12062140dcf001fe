import { constants, deflateRawSync, deflateSync } from "node:zlib";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { fixture } from "./fixtures.ts";

/*
 * Files made to hurt a decoder, built by the tests (never shipped): each is small to send and
 * would cost a naive decoder far more than its size.
 */

const concat = (parts: Uint8Array[]): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.concat(parts));

const u32 = (v: number) => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const u16 = (v: number) => new Uint8Array([(v >>> 8) & 255, v & 255]);
const text = (s: string) => new TextEncoder().encode(s);

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat([text(type), data]);
  return concat([u32(data.length), body, u32(Bun.hash.crc32(body))]);
}

const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A 1×1 RGBA PNG whose zlib stream inflates to `inflated` bytes of zeros: one precomputed run of
 * non-final deflate blocks (1 MiB of zeros, flushed to a byte boundary) repeated, a final empty
 * stored block, and the Adler-32 of n zeros computed arithmetically (a = 1, b = n mod 65521).
 * 24 GB of zeros take about 24 MB.
 */
export function inflateBombPng(inflated: number): Uint8Array<ArrayBuffer> {
  const run = 1 << 20;
  const block = deflateRawSync(new Uint8Array(run), {
    level: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const repeats = Math.ceil(inflated / run);
  const zlib = new Uint8Array(2 + block.length * repeats + 5 + 4);
  zlib.set([0x78, 0xda]);
  for (let i = 0; i < repeats; i++) zlib.set(block, 2 + i * block.length);
  let at = 2 + block.length * repeats;
  zlib.set([0x01, 0x00, 0x00, 0xff, 0xff], at); // final, stored, empty
  at += 5;
  const b = (repeats * (run % 65521)) % 65521;
  zlib.set(u32(((b << 16) | 1) >>> 0), at);
  const ihdr = concat([u32(1), u32(1), new Uint8Array([8, 6, 0, 0, 0])]);
  return concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlib),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** A small valid PNG whose first row has filter type 5 (there are 0–4). */
export function badFilterPng(): Uint8Array<ArrayBuffer> {
  const width = 4;
  const height = 4;
  const raw = new Uint8Array((1 + width * 4) * height).fill(200);
  for (let y = 0; y < height; y++) raw[y * (1 + width * 4)] = y === 0 ? 5 : 0;
  const ihdr = concat([u32(width), u32(height), new Uint8Array([8, 6, 0, 0, 0])]);
  return concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** The JPEG segments (marker + payload, entropy data included) of a file. */
function jpegSegments(b: Uint8Array): { marker: number; start: number; end: number }[] {
  const segments: { marker: number; start: number; end: number }[] = [];
  let at = 2;
  while (at < b.length) {
    const marker = b[at + 1] as number;
    if (marker === 0xd9) {
      segments.push({ marker, start: at, end: at + 2 });
      break;
    }
    let end = at + 2 + (((b[at + 2] as number) << 8) | (b[at + 3] as number));
    if (marker === 0xda) {
      // The entropy-coded data runs to the next marker that is not a stuffed byte or an RST.
      while (
        !(
          b[end] === 0xff &&
          b[end + 1] !== 0 &&
          !((b[end + 1] as number) >= 0xd0 && (b[end + 1] as number) <= 0xd7)
        )
      )
        end++;
    }
    segments.push({ marker, start: at, end });
    at = end;
  }
  return segments;
}

/**
 * A progressive JPEG of `scans` scans: a flat 2048×2048 grey image, encoded progressively, its
 * last scan (a luma AC refinement, a few bytes of end-of-band runs) repeated until the count is
 * reached. Each repeat is a pass over every block: cheap in bytes, not in time.
 */
export async function manyScansJpeg(scans: number): Promise<Uint8Array<ArrayBuffer>> {
  const codecs = createCodecs(loadLocalWasm);
  const side = 2048;
  const img = { data: new Uint8ClampedArray(side * side * 4).fill(128), width: side, height: side };
  const jpeg = await codecs.encode(img, { format: "jpeg", quality: 90, progressive: true });
  const segments = jpegSegments(jpeg);
  const sos = segments.filter((s) => s.marker === 0xda);
  const last = sos.at(-1) as (typeof sos)[number];
  const repeat = jpeg.subarray(last.start, last.end);
  const eoi = (segments.at(-1) as (typeof segments)[number]).start;
  const extra = scans - sos.length;
  return concat([
    jpeg.subarray(0, eoi),
    ...Array.from({ length: extra }, () => repeat),
    jpeg.subarray(eoi),
  ]);
}

/** A copy of a JPEG with its frame header changed: width, height or sample precision. */
export function patchJpegFrame(
  jpeg: Uint8Array,
  patch: { width?: number; height?: number; precision?: number },
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(jpeg);
  const frame = jpegSegments(out).find((s) => s.marker >= 0xc0 && s.marker <= 0xc2);
  if (!frame) throw new Error("no frame header");
  if (patch.precision !== undefined) out[frame.start + 4] = patch.precision;
  if (patch.height !== undefined) out.set(u16(patch.height), frame.start + 5);
  if (patch.width !== undefined) out.set(u16(patch.width), frame.start + 7);
  return out;
}

/** An ISO BMFF box; `full` adds the version and flags of a full box. */
export function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const body = concat(payload);
  return concat([u32(8 + body.length), text(type), body]);
}

export const fullBox = (type: string, version: number, flags: number, ...payload: Uint8Array[]) =>
  box(type, new Uint8Array([version, flags >> 16, (flags >> 8) & 255, flags & 255]), ...payload);

export const ispe = (width: number, height: number) =>
  fullBox("ispe", 0, 0, u32(width), u32(height));

type AvifParts = {
  ftyp: Uint8Array;
  hdlr: Uint8Array;
  iinf: Uint8Array;
  av1C: Uint8Array;
  pixi: Uint8Array;
  av1: Uint8Array;
};

/** The boxes of the 300×200 AVIF fixture, and its AV1 data (a sequence header saying 300×200). */
export async function avifParts(): Promise<AvifParts> {
  const b = await fixture("generated/landscape-300.avif");
  const find = (type: string, from = 0): Uint8Array => {
    for (let at = from; at + 8 <= b.length; at++) {
      if (String.fromCharCode(...b.subarray(at + 4, at + 8)) === type) {
        const size =
          ((b[at] as number) << 24) |
          ((b[at + 1] as number) << 16) |
          ((b[at + 2] as number) << 8) |
          (b[at + 3] as number);
        return b.subarray(at, at + size);
      }
    }
    throw new Error(`no ${type}`);
  };
  const mdat = find("mdat");
  return {
    ftyp: find("ftyp"),
    hdlr: find("hdlr"),
    iinf: find("iinf"),
    av1C: find("av1C"),
    pixi: find("pixi"),
    av1: mdat.subarray(8),
  };
}

/**
 * An AVIF of one AV1 item (id 1, the primary unless `pitm` says otherwise) built from `parts`,
 * with the properties and associations given: `properties` in ipco order, `associations` as
 * item id → 1-based property indices. The AV1 data follows in mdat, located by iloc.
 */
export function buildAvif(
  parts: AvifParts,
  options: {
    properties: Uint8Array[];
    associations: [item: number, indices: number[]][];
    pitm?: number;
    ipmaVersion?: 0 | 1;
  },
): Uint8Array<ArrayBuffer> {
  const { properties, associations, pitm = 1, ipmaVersion = 0 } = options;
  const ipma = fullBox(
    "ipma",
    ipmaVersion,
    0,
    u32(associations.length),
    ...associations.map(([item, indices]) =>
      concat([
        ipmaVersion === 0 ? u16(item) : u32(item),
        new Uint8Array([indices.length, ...indices.map((i) => 0x80 | i)]),
      ]),
    ),
  );
  const iprp = box("iprp", box("ipco", ...properties), ipma);
  const ilocFor = (offset: number) =>
    fullBox(
      "iloc",
      0,
      0,
      new Uint8Array([0x44, 0x00]),
      u16(1),
      u16(1),
      u16(0),
      u16(1),
      u32(offset),
      u32(parts.av1.length),
    );
  const metaFor = (offset: number) =>
    fullBox(
      "meta",
      0,
      0,
      parts.hdlr,
      fullBox("pitm", 0, 0, u16(pitm)),
      ilocFor(offset),
      parts.iinf,
      iprp,
    );
  const offset = parts.ftyp.length + metaFor(0).length + 8;
  return concat([parts.ftyp, metaFor(offset), box("mdat", parts.av1)]);
}

/**
 * The undecodable files of issue 18, each with the words its refusal must contain: no operation
 * could decode any of them, so an upload must refuse them.
 */
export async function undecodableFiles(): Promise<
  { name: string; bytes: Uint8Array<ArrayBuffer>; reason: RegExp }[]
> {
  const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
  const parts = await avifParts();
  const lossless = await fixture("generated/landscape-120-lossless.webp");
  const png = badFilterPng();
  return [
    {
      name: "wide.jpg",
      bytes: patchJpegFrame(jpeg, { width: 65535, height: 8 }),
      reason: /wider or taller than 65500/,
    },
    {
      name: "12-bit.jpg",
      bytes: patchJpegFrame(jpeg, { precision: 12 }),
      reason: /12-bit samples/,
    },
    { name: "cmyk.jpg", bytes: await cmykJpeg(), reason: /CMYK/ },
    {
      name: "fake-size.avif",
      bytes: buildAvif(parts, {
        properties: [parts.av1C, ispe(1, 1), parts.pixi],
        associations: [[1, [1, 2, 3]]],
      }),
      reason: /declares 1×1 but its AV1 data is 300×200/,
    },
    { name: "animated.webp", bytes: animatedWebp(lossless), reason: /Animated WebP/ },
    { name: "bad-filter.png", bytes: png, reason: /^The PNG uses an unknown filter type 5$/ },
    {
      name: "truncated.png",
      bytes: png.subarray(0, png.length - 20),
      reason: /runs past the end|IEND/,
    },
    { name: "truncated.jpg", bytes: jpeg.subarray(0, jpeg.length >> 1), reason: /truncated/ },
  ];
}

async function cmykJpeg(): Promise<Uint8Array<ArrayBuffer>> {
  const { default: sharp } = await import("sharp");
  return new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: "#3366cc" } })
      .toColourspace("cmyk")
      .jpeg()
      .toBuffer(),
  );
}

/** A two-frame animated WebP (VP8X with the animation flag, ANIM, two ANMF frames). */
function animatedWebp(still: Uint8Array): Uint8Array<ArrayBuffer> {
  const le = (v: number, n: number) =>
    new Uint8Array(Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 255));
  const chunk = (type: string, data: Uint8Array) =>
    concat([
      text(type),
      le(data.length, 4),
      data,
      data.length & 1 ? new Uint8Array(1) : new Uint8Array(),
    ]);
  const frame = still.subarray(12); // the VP8L chunk of the still file
  const width = 120;
  const height = 80;
  const vp8x = chunk(
    "VP8X",
    concat([new Uint8Array([0x02 | 0x10, 0, 0, 0]), le(width - 1, 3), le(height - 1, 3)]),
  );
  const anim = chunk("ANIM", concat([le(0, 4), le(0, 2)]));
  const anmf = chunk(
    "ANMF",
    concat([
      le(0, 3),
      le(0, 3),
      le(width - 1, 3),
      le(height - 1, 3),
      le(100, 3),
      new Uint8Array([0]),
      frame,
    ]),
  );
  const body = concat([text("WEBP"), vp8x, anim, anmf, anmf]);
  return concat([text("RIFF"), le(body.length, 4), body]);
}

/**
 * An AVIF whose primary item (id 1) is a grid of `columns` × `rows` tiles, each a copy of the
 * fixture's 300×200 AV1 image (items 2…), declaring `output` as its size (in ispe and in the grid).
 */
export function buildGridAvif(
  parts: AvifParts,
  options: { columns: number; rows: number; output: { width: number; height: number } },
): Uint8Array<ArrayBuffer> {
  const { columns, rows, output } = options;
  const tiles = Array.from({ length: columns * rows }, (_, i) => i + 2);
  const grid = concat([
    new Uint8Array([0, 0, rows - 1, columns - 1]),
    u16(output.width),
    u16(output.height),
  ]);
  const infe = (id: number, type: string) =>
    fullBox("infe", 2, 0, u16(id), u16(0), text(type), new Uint8Array([0]));
  const iinf = fullBox(
    "iinf",
    0,
    0,
    u16(1 + tiles.length),
    infe(1, "grid"),
    ...tiles.map((id) => infe(id, "av01")),
  );
  const iref = fullBox("iref", 0, 0, box("dimg", u16(1), u16(tiles.length), ...tiles.map(u16)));
  const ipma = fullBox(
    "ipma",
    0,
    0,
    u32(1 + tiles.length),
    concat([u16(1), new Uint8Array([2, 0x80 | 1, 4])]),
    ...tiles.map((id) => concat([u16(id), new Uint8Array([3, 0x80 | 2, 0x80 | 3, 4])])),
  );
  const iprp = box(
    "iprp",
    box("ipco", ispe(output.width, output.height), parts.av1C, ispe(300, 200), parts.pixi),
    ipma,
  );
  const entry = (id: number, offset: number, length: number) =>
    concat([u16(id), u16(0), u16(1), u32(offset), u32(length)]);
  const ilocFor = (data: number) =>
    fullBox(
      "iloc",
      0,
      0,
      new Uint8Array([0x44, 0x00]),
      u16(1 + tiles.length),
      entry(1, data, grid.length),
      ...tiles.map((id) => entry(id, data + grid.length, parts.av1.length)),
    );
  const metaFor = (data: number) =>
    fullBox(
      "meta",
      0,
      0,
      parts.hdlr,
      fullBox("pitm", 0, 0, u16(1)),
      ilocFor(data),
      iinf,
      iref,
      iprp,
    );
  const data = parts.ftyp.length + metaFor(0).length + 8;
  return concat([parts.ftyp, metaFor(data), box("mdat", grid, parts.av1)]);
}

/**
 * A seeded pseudo-random generator (mulberry32) in [0, 1): the campaign's mutations are the same
 * on every run, so a failure names a file that can be made again.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Mutant = { name: string; bytes: Uint8Array<ArrayBuffer> };

/**
 * Damaged copies of one real image file, of three kinds: `bitflips` copies with 1–8 bits flipped
 * (half of them in the first 256 bytes, where the headers are), `truncations` cut at offsets
 * spread over the file plus a few inside the signature and headers, and `headerEdits` copies with
 * two header bytes set to 0x00 0x00 or 0xFF 0xFF (a dimension, a length or a count made zero or
 * huge). For a JPEG the frame header's width, height and precision are edited too.
 */
export function mutate(
  name: string,
  original: Uint8Array,
  counts: { bitflips: number; truncations: number; headerEdits: number },
  seed: number,
): Mutant[] {
  const random = seededRandom(seed);
  const pick = (below: number) => Math.floor(random() * below);
  const header = Math.min(256, original.length);
  const out: Mutant[] = [];
  for (let i = 0; i < counts.bitflips; i++) {
    const bytes = new Uint8Array(original);
    const flips = 1 << (i % 4);
    const span = i % 2 === 0 ? header : bytes.length;
    const at: number[] = [];
    for (let f = 0; f < flips; f++) {
      const offset = pick(span);
      at.push(offset);
      bytes[offset] = (bytes[offset] as number) ^ (1 << pick(8));
    }
    out.push({ name: `${name}.flip-${at.join("-")}`, bytes });
  }
  const early = [1, 2, 4, 8, 12, 16, 24, 32, 64, 128].filter((n) => n < original.length);
  const spreadCount = Math.max(0, counts.truncations - early.length);
  const spread = Array.from({ length: spreadCount }, (_, k) =>
    Math.floor((original.length * (k + 1)) / (spreadCount + 1)),
  );
  for (const length of [...early, ...spread].slice(0, counts.truncations)) {
    out.push({
      name: `${name}.cut-${length}`,
      bytes: new Uint8Array(original.subarray(0, length)),
    });
  }
  const isJpeg = original[0] === 0xff && original[1] === 0xd8;
  const frameEdits = isJpeg
    ? [{ width: 0 }, { height: 0 }, { width: 65535, height: 65535 }, { precision: 16 }]
    : [];
  for (const patch of frameEdits.slice(0, counts.headerEdits)) {
    const label = Object.entries(patch)
      .map(([k, v]) => `${k}${v}`)
      .join("-");
    out.push({ name: `${name}.sof-${label}`, bytes: patchJpegFrame(original, patch) });
  }
  for (let i = frameEdits.length; i < counts.headerEdits; i++) {
    const bytes = new Uint8Array(original);
    const offset = pick(Math.max(1, header - 1));
    const value = i % 2 === 0 ? 0x00 : 0xff;
    bytes[offset] = value;
    if (offset + 1 < bytes.length) bytes[offset + 1] = value;
    out.push({ name: `${name}.hdr-${offset}-${value.toString(16)}`, bytes });
  }
  return out;
}
