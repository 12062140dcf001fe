import { crc32 } from "./crc32.ts";

/** One file of an archive; its bytes are asked for only when the archive reaches it. */
export type ZipEntry = {
  /** The path inside the archive ("/" separated), stored as UTF-8. */
  name: string;
  modified?: Date;
  /** The bytes, or null to leave the file out (it went away meanwhile). */
  data(): Promise<Uint8Array | ReadableStream<Uint8Array> | null>;
};

/**
 * Without ZIP64, sizes and offsets are 32-bit and the entry count 16-bit: an archive, and so
 * each file in it, stays under 4 GiB, with at most 65 535 files.
 */
export const ZIP_MAX_BYTES = 0xffff_ffff;
export const ZIP_MAX_ENTRIES = 0xffff;

// General purpose flags: bit 3, sizes and CRC follow the data (it is streamed, unknown until
// written); bit 11, names are UTF-8 (APPNOTE 6.3, 4.4.4).
const FLAGS = 0x0008 | 0x0800;
// 2.0: the version that introduced data descriptors.
const VERSION = 20;

/** MS-DOS time and date fields (2-second resolution, from 1980), in UTC. */
function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(Math.max(date.getUTCFullYear(), 1980), 2107);
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

function localHeader(name: Uint8Array, when: { time: number; date: number }): Uint8Array {
  const out = new Uint8Array(30 + name.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, VERSION, true);
  v.setUint16(6, FLAGS, true);
  v.setUint16(8, 0, true); // stored: no compression (images are compressed already)
  v.setUint16(10, when.time, true);
  v.setUint16(12, when.date, true);
  // CRC-32 and both sizes (offsets 14–25) stay 0: the data descriptor carries them.
  v.setUint16(26, name.length, true);
  v.setUint16(28, 0, true);
  out.set(name, 30);
  return out;
}

function dataDescriptor(crc: number, size: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x08074b50, true);
  v.setUint32(4, crc, true);
  v.setUint32(8, size, true);
  v.setUint32(12, size, true);
  return out;
}

type Written = {
  name: Uint8Array;
  when: { time: number; date: number };
  crc: number;
  size: number;
  offset: number;
};

function centralHeader(e: Written): Uint8Array {
  const out = new Uint8Array(46 + e.name.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, VERSION, true); // made by: MS-DOS attributes (none), version 2.0
  v.setUint16(6, VERSION, true);
  v.setUint16(8, FLAGS, true);
  v.setUint16(10, 0, true);
  v.setUint16(12, e.when.time, true);
  v.setUint16(14, e.when.date, true);
  v.setUint32(16, e.crc, true);
  v.setUint32(20, e.size, true);
  v.setUint32(24, e.size, true);
  v.setUint16(28, e.name.length, true);
  // Extra field, comment, disk number, internal and external attributes: none (30–41).
  v.setUint32(42, e.offset, true);
  out.set(e.name, 46);
  return out;
}

function endOfCentralDirectory(count: number, size: number, offset: number): Uint8Array {
  const out = new Uint8Array(22);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, count, true);
  v.setUint16(10, count, true);
  v.setUint32(12, size, true);
  v.setUint32(16, offset, true);
  return out;
}

async function* chunksOf(data: Uint8Array | ReadableStream<Uint8Array>) {
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  const reader = data.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  } finally {
    reader.releaseLock();
  }
}

/** Raised inside the stream when an archive would outgrow what ZIP without ZIP64 can say. */
export class ZipLimitError extends Error {}

async function* zipChunks(entries: AsyncIterable<ZipEntry>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const written: Written[] = [];
  let offset = 0;
  const grow = (n: number) => {
    offset += n;
    if (offset > ZIP_MAX_BYTES) {
      throw new ZipLimitError(`The archive would exceed ${ZIP_MAX_BYTES} bytes`);
    }
  };
  for await (const entry of entries) {
    if (written.length === ZIP_MAX_ENTRIES) {
      throw new ZipLimitError(`An archive holds at most ${ZIP_MAX_ENTRIES} files`);
    }
    const data = await entry.data();
    if (data === null) continue;
    const name = encoder.encode(entry.name);
    const when = dosDateTime(entry.modified ?? new Date());
    const start = offset;
    const header = localHeader(name, when);
    grow(header.length);
    yield header;
    let crc = 0;
    let size = 0;
    for await (const chunk of chunksOf(data)) {
      if (chunk.length === 0) continue;
      crc = crc32(chunk, crc);
      size += chunk.length;
      grow(chunk.length);
      yield chunk;
    }
    grow(16);
    yield dataDescriptor(crc, size);
    written.push({ name, when, crc, size, offset: start });
  }
  const directoryStart = offset;
  for (const e of written) {
    const header = centralHeader(e);
    grow(header.length);
    yield header;
  }
  yield endOfCentralDirectory(written.length, offset - directoryStart, directoryStart);
}

/**
 * A ZIP archive of `entries`, written as it is read: each file is stored (no compression; the
 * results it carries are compressed images or small JSON), its CRC-32 computed while it passes,
 * and its sizes written after it in a data descriptor, so memory holds one chunk plus the
 * central directory (~50 bytes a file), whatever the archive's size. No ZIP64: past 4 GiB or
 * 65 535 files the stream fails with a ZipLimitError (check sizes before you start).
 *
 * @example
 * const body = zipStream((async function* () {
 *   yield { name: "a.txt", data: async () => new TextEncoder().encode("hello") };
 * })());
 * return new Response(body, { headers: { "Content-Type": "application/zip" } });
 */
export function zipStream(entries: AsyncIterable<ZipEntry>): ReadableStream<Uint8Array> {
  const chunks = zipChunks(entries);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
