import { concatBytes } from "../lib/bytes.ts";
import { crc32 } from "../lib/crc32.ts";
import { zlibDeflate } from "../lib/deflate.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A single-channel (greyscale) PNG of 8- or 16-bit samples: what masks and label maps are, which
 * the RGBA encoder of the codecs cannot write. Rows are stored unfiltered; masks compress well
 * without filters. Does not mutate `samples`.
 *
 * @example
 * const png = await encodeGreyPng(new Uint8Array([0, 255, 255, 0]), 2, 2); // a 2×2 checkerboard
 */
export async function encodeGreyPng(
  samples: Uint8Array | Uint16Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  if (samples.length !== width * height) {
    throw new RangeError(
      `Expected ${width * height} samples for a ${width}×${height} image but received ${samples.length}`,
    );
  }
  const depth = samples instanceof Uint16Array ? 16 : 8;
  const bytesPerRow = width * (depth / 8);
  const raw = new Uint8Array((bytesPerRow + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (bytesPerRow + 1) + 1; // the byte before is filter type 0
    if (depth === 8) {
      raw.set((samples as Uint8Array).subarray(y * width, (y + 1) * width), row);
    } else {
      for (let x = 0; x < width; x++) {
        const v = samples[y * width + x] as number;
        raw[row + 2 * x] = v >> 8; // PNG samples are big-endian
        raw[row + 2 * x + 1] = v & 0xff;
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([depth, 0, 0, 0, 0], 8); // colour type 0: greyscale
  return concatBytes([
    new Uint8Array(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", await zlibDeflate(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}
