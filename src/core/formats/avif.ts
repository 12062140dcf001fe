import { ascii, u16be, u32be } from "../lib/bytes.ts";

/*
 * The parts of an AVIF (HEIF, ISO/IEC 23008-12) container that say how large its image is: the
 * primary item (`pitm`), the properties associated with it (`iprp/ipco` through `ipma`), its
 * data's location (`iloc`) and, for a grid, its tiles (`iref/dimg`). A file may hold several items
 * (thumbnails, alpha, tiles, or items put there to mislead); only the primary item is what a
 * decoder shows, so its `ispe` is the image's size and nothing else is.
 */

type Box = { type: string; start: number; body: number; end: number };

/**
 * The header of the ISO box at `at`, whose container ends at `end`: its type, its size (a 64-bit
 * size when the 32-bit one is 1; to the container's end when it is 0) and where its body starts.
 * Nothing is checked: the size may run past `end`, or be smaller than the header.
 */
export function isoBoxHeader(
  b: Uint8Array,
  at: number,
  end: number,
): { type: string; size: number; body: number } {
  const type = ascii(b, at + 4, 4);
  const size = u32be(b, at);
  if (size === 1)
    return { type, size: u32be(b, at + 8) * 2 ** 32 + u32be(b, at + 12), body: at + 16 };
  return { type, size: size === 0 ? end - at : size, body: at + 8 };
}

/** The boxes between `start` and `end`; null when one runs past `end` (cut off or lying). */
function boxesIn(b: Uint8Array, start: number, end: number): Box[] | null {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    const { type, size, body } = isoBoxHeader(b, at, end);
    if (size < body - at || at + size > end) return null;
    boxes.push({ type, start: at, body, end: at + size });
    at += size;
  }
  return at === end ? boxes : null;
}

/** A byte range of the file holding (part of) an item's data. */
export type Extent = { offset: number; length: number };

export type AvifItem = {
  id: number;
  /** `av01` (one coded image), `grid` (tiles), … */
  type: string;
  /** Where its data lies in the file; null when it is in an `idat` box or another file. */
  extents: Extent[] | null;
};

export type AvifPrimary = AvifItem & {
  width: number;
  height: number;
  /** For a grid: its tiles, in order. */
  tiles: AvifItem[];
};

export type AvifMetaResult =
  | { kind: "ok"; primary: AvifPrimary }
  | { kind: "need-more" }
  | { kind: "corrupt"; reason: string };

const corrupt = (reason: string): AvifMetaResult => ({ kind: "corrupt", reason });

/** Reads an unsigned big-endian integer of 0, 4 or 8 bytes (iloc's field sizes). */
function uint(b: Uint8Array, at: number, size: number): number {
  if (size === 4) return u32be(b, at);
  if (size === 8) return u32be(b, at) * 2 ** 32 + u32be(b, at + 4);
  return 0;
}

function readPitm(b: Uint8Array, box: Box): number {
  return b[box.body] === 0 ? u16be(b, box.body + 4) : u32be(b, box.body + 4);
}

/** Item id → item type, from `iinf`'s `infe` boxes (versions 2 and 3 carry a type). */
function readIinf(b: Uint8Array, box: Box): Map<number, string> | null {
  const version = b[box.body];
  const countSize = version === 0 ? 2 : 4;
  const entries = boxesIn(b, box.body + 4 + countSize, box.end);
  if (!entries) return null;
  const types = new Map<number, string>();
  for (const e of entries) {
    if (e.type !== "infe") continue;
    const v = b[e.body] ?? 0;
    if (v < 2) continue;
    const id = v === 2 ? u16be(b, e.body + 4) : u32be(b, e.body + 4);
    const typeAt = e.body + 4 + (v === 2 ? 2 : 4) + 2;
    types.set(id, ascii(b, typeAt, 4));
  }
  return types;
}

/** Item id → extents in the file, from `iloc` (ISO/IEC 14496-12 §8.11.3). */
function readIloc(b: Uint8Array, box: Box): Map<number, Extent[] | null> {
  const version = b[box.body] ?? 0;
  let at = box.body + 4;
  const offsetSize = (b[at] ?? 0) >> 4;
  const lengthSize = (b[at] ?? 0) & 15;
  const baseOffsetSize = (b[at + 1] ?? 0) >> 4;
  const indexSize = version === 1 || version === 2 ? (b[at + 1] ?? 0) & 15 : 0;
  at += 2;
  const idSize = version === 2 ? 4 : 2;
  const count = idSize === 4 ? u32be(b, at) : u16be(b, at);
  at += idSize;
  const items = new Map<number, Extent[] | null>();
  for (let i = 0; i < count && at < box.end; i++) {
    const id = idSize === 4 ? u32be(b, at) : u16be(b, at);
    at += idSize;
    let method = 0;
    if (version === 1 || version === 2) {
      method = u16be(b, at) & 15;
      at += 2;
    }
    const dataReference = u16be(b, at);
    at += 2;
    const base = uint(b, at, baseOffsetSize);
    at += baseOffsetSize;
    const extentCount = u16be(b, at);
    at += 2;
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      at += indexSize;
      const offset = base + uint(b, at, offsetSize);
      at += offsetSize;
      const length = uint(b, at, lengthSize);
      at += lengthSize;
      extents.push({ offset, length });
    }
    // Only data in this file, at file offsets, is read here (construction method 0).
    items.set(id, method === 0 && dataReference === 0 ? extents : null);
  }
  return items;
}

/** For each item associated with properties: their 1-based indices in `ipco`, from `ipma`. */
function readIpma(b: Uint8Array, box: Box): Map<number, number[]> {
  const version = b[box.body] ?? 0;
  const wideIndex = ((b[box.body + 3] ?? 0) & 1) === 1;
  let at = box.body + 4;
  const count = u32be(b, at);
  at += 4;
  const associations = new Map<number, number[]>();
  for (let i = 0; i < count && at < box.end; i++) {
    const id = version < 1 ? u16be(b, at) : u32be(b, at);
    at += version < 1 ? 2 : 4;
    const n = b[at] ?? 0;
    at += 1;
    const indices: number[] = [];
    for (let k = 0; k < n; k++) {
      indices.push(wideIndex ? u16be(b, at) & 0x7fff : (b[at] ?? 0) & 0x7f);
      at += wideIndex ? 2 : 1;
    }
    associations.set(id, [...(associations.get(id) ?? []), ...indices]);
  }
  return associations;
}

/** The tiles of each grid, from `iref`'s `dimg` references. */
function readDimg(b: Uint8Array, box: Box): Map<number, number[]> {
  const wide = b[box.body] === 1;
  const refs = new Map<number, number[]>();
  for (const r of boxesIn(b, box.body + 4, box.end) ?? []) {
    if (r.type !== "dimg") continue;
    const read = (at: number) => (wide ? u32be(b, at) : u16be(b, at));
    const step = wide ? 4 : 2;
    const from = read(r.body);
    const count = u16be(b, r.body + step);
    const to: number[] = [];
    for (let k = 0; k < count; k++) to.push(read(r.body + step + 2 + k * step));
    refs.set(from, to);
  }
  return refs;
}

/**
 * Finds an AVIF's primary item and its size from the `meta` box: the `ispe` property that `ipma`
 * associates with the item `pitm` names. `need-more` while the `meta` box is not entirely in
 * `b` (it normally sits right after `ftyp`). Transformations (`irot`, `imir`) are not read: the
 * decoder (jSquash's libavif build) does not apply them, so the pixels served are `ispe`'s size,
 * and a rotation would change no pixel count anyway. Does not mutate `b`.
 *
 * @example
 * readAvifMeta(fileStart); // { kind: "ok", primary: { id: 1, type: "av01", width: 300, height: 200, … } }
 */
export function readAvifMeta(b: Uint8Array): AvifMetaResult {
  let at = 0;
  let meta: Box | undefined;
  while (!meta) {
    if (at + 16 > b.length) return { kind: "need-more" };
    const size = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    const length = size === 1 ? u32be(b, at + 8) * 2 ** 32 + u32be(b, at + 12) : size;
    if (type === "meta") {
      if (length < 12) return corrupt("AVIF meta box is too short");
      if (at + length > b.length) return { kind: "need-more" };
      meta = { type, start: at, body: at + (size === 1 ? 16 : 8), end: at + length };
    } else {
      if (length < 8) return corrupt(`AVIF box ${JSON.stringify(type)} has an invalid size`);
      at += length;
    }
  }
  const children = boxesIn(b, meta.body + 4, meta.end);
  if (!children) return corrupt("AVIF meta box holds a box that runs past its end");
  const child = (type: string) => children.find((c) => c.type === type);
  const pitm = child("pitm");
  const iprp = child("iprp");
  if (!pitm) return corrupt("AVIF has no primary item (pitm)");
  if (!iprp) return corrupt("AVIF has no item properties (iprp)");
  const id = readPitm(b, pitm);
  const iprpChildren = boxesIn(b, iprp.body, iprp.end);
  const ipco = iprpChildren?.find((c) => c.type === "ipco");
  const properties = ipco ? boxesIn(b, ipco.body, ipco.end) : null;
  if (!iprpChildren || !properties) return corrupt("AVIF item properties are malformed");
  const associated = new Map<number, number[]>();
  for (const ipma of iprpChildren.filter((c) => c.type === "ipma")) {
    for (const [item, indices] of readIpma(b, ipma)) {
      associated.set(item, [...(associated.get(item) ?? []), ...indices]);
    }
  }
  const ispe = (associated.get(id) ?? [])
    .map((index) => properties[index - 1])
    .find((p) => p?.type === "ispe");
  if (!ispe) return corrupt("AVIF's primary item has no image size (ispe)");
  const width = u32be(b, ispe.body + 4);
  const height = u32be(b, ispe.body + 8);
  if (width === 0 || height === 0) return corrupt(`AVIF has invalid dimensions ${width}×${height}`);

  const iinf = child("iinf");
  const types = iinf ? readIinf(b, iinf) : new Map<number, string>();
  if (!types) return corrupt("AVIF item information (iinf) is malformed");
  const iloc = child("iloc");
  const locations = iloc ? readIloc(b, iloc) : new Map<number, Extent[] | null>();
  const item = (itemId: number): AvifItem => ({
    id: itemId,
    type: types.get(itemId) ?? "",
    extents: locations.get(itemId) ?? null,
  });
  const iref = child("iref");
  const tileIds = (iref ? readDimg(b, iref) : new Map<number, number[]>()).get(id) ?? [];
  return { kind: "ok", primary: { ...item(id), width, height, tiles: tileIds.map(item) } };
}

/** An item's data, its extents concatenated; null when it does not lie within `b`. */
export function itemData(b: Uint8Array, item: AvifItem): Uint8Array | null {
  if (!item.extents || item.extents.length === 0) return null;
  const total = item.extents.reduce((sum, e) => sum + e.length, 0);
  if (item.extents.some((e) => e.offset + e.length > b.length)) return null;
  if (item.extents.length === 1) {
    const [e] = item.extents as [Extent];
    // Length 0 means "to the end of the file".
    return b.subarray(e.offset, e.length === 0 ? b.length : e.offset + e.length);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of item.extents) {
    out.set(b.subarray(e.offset, e.offset + e.length), at);
    at += e.length;
  }
  return out;
}

/** Reads bits most significant first, as AV1's syntax does; past the end reads zeros. */
function bitReader(b: Uint8Array, start: number) {
  let bit = start * 8;
  const f = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + (((b[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
    return v;
  };
  return {
    f,
    // uvlc(): leading zeros, then that many bits (AV1 §4.10.3).
    uvlc(): number {
      let zeros = 0;
      while (f(1) === 0 && zeros < 32) zeros++;
      return zeros >= 32 ? 2 ** 32 - 1 : f(zeros) + 2 ** zeros - 1;
    },
  };
}

/** leb128 (AV1 §4.10.5): the value and the bytes it took. */
function leb128(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = b[at + i] ?? 0;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return [value, i + 1];
  }
  return [value, 8];
}

const OBU_SEQUENCE_HEADER = 1;

/**
 * The largest frame an AV1 bitstream may hold (max_frame_width/height in its sequence header,
 * AV1 §5.5): what a decoder sizes its buffers for. Null when `data` (an item's data, a list of
 * OBUs) has no sequence header.
 *
 * @example
 * av1MaxFrameSize(itemData(file, primary)); // { width: 300, height: 200 }
 */
export function av1MaxFrameSize(data: Uint8Array): { width: number; height: number } | null {
  let at = 0;
  while (at < data.length) {
    const header = data[at] ?? 0;
    const type = (header >> 3) & 15;
    const hasExtension = (header >> 2) & 1;
    const hasSize = (header >> 1) & 1;
    let body = at + 1 + hasExtension;
    let size = data.length - body;
    if (hasSize) {
      const [value, length] = leb128(data, body);
      body += length;
      size = value;
    }
    if (type === OBU_SEQUENCE_HEADER) return sequenceHeaderSize(data, body);
    if (!hasSize) return null;
    at = body + size;
  }
  return null;
}

function sequenceHeaderSize(data: Uint8Array, at: number): { width: number; height: number } {
  const r = bitReader(data, at);
  r.f(3); // seq_profile
  r.f(1); // still_picture
  const reduced = r.f(1);
  if (reduced) {
    r.f(5); // seq_level_idx[0]
  } else {
    const timingInfo = r.f(1);
    let decoderModelInfo = 0;
    let bufferDelayLength = 0;
    if (timingInfo) {
      r.f(32); // num_units_in_display_tick
      r.f(32); // time_scale
      if (r.f(1)) r.uvlc(); // equal_picture_interval → num_ticks_per_picture_minus_1
      decoderModelInfo = r.f(1);
      if (decoderModelInfo) {
        bufferDelayLength = r.f(5) + 1;
        r.f(32); // num_units_in_decoding_tick
        r.f(5); // buffer_removal_time_length_minus_1
        r.f(5); // frame_presentation_time_length_minus_1
      }
    }
    const initialDisplayDelay = r.f(1);
    const operatingPoints = r.f(5) + 1;
    for (let i = 0; i < operatingPoints; i++) {
      r.f(12); // operating_point_idc
      if (r.f(5) > 7) r.f(1); // seq_level_idx → seq_tier
      if (decoderModelInfo && r.f(1)) {
        r.f(bufferDelayLength); // decoder_buffer_delay
        r.f(bufferDelayLength); // encoder_buffer_delay
        r.f(1); // low_delay_mode_flag
      }
      if (initialDisplayDelay && r.f(1)) r.f(4);
    }
  }
  const widthBits = r.f(4) + 1;
  const heightBits = r.f(4) + 1;
  return { width: r.f(widthBits) + 1, height: r.f(heightBits) + 1 };
}
