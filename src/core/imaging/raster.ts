/**
 * An RGBA raster: 4 bytes per pixel (red, green, blue, alpha; not premultiplied), rows top to
 * bottom with no padding, so `data.length === width * height * 4`. The shape of the DOM's
 * ImageData and of what jSquash codecs take and return, without needing an ImageData global.
 */
export type RgbaImage = { data: Uint8ClampedArray; width: number; height: number };

/**
 * A new, zero-filled (transparent black) raster.
 *
 * @example
 * const blank = createRgba(2, 1); // blank.data.length === 8
 */
export function createRgba(width: number, height: number): RgbaImage {
  return { data: new Uint8ClampedArray(width * height * 4), width, height };
}

/** Where a codec puts a raster it makes: every byte of it is then written. */
export type AllocateRgba = (width: number, height: number) => RgbaImage;

/**
 * Rasters' memory kept from one pipeline for the next. A fresh typed array of megabytes costs its
 * first touch, page by page, and more so on a virtual machine that hands freed pages back to its
 * host: measured on the 2-core VM of docs/benchmarks.md, a 2.3 MB ArrayBuffer.slice out of wasm
 * memory took 6.9 ms against 0.4 ms for a copy into a kept buffer, and filling a new 36 MB array
 * (a 9 MP RGBA) 115 ms, more than inflating the PNG it came from. Buffers come back through
 * `give` once nothing reads them; at most `capacityBytes` are kept, the rest left to the
 * collector.
 *
 * @example
 * const pool = new RasterPool(64 * 1024 * 1024);
 * const img = pool.take(800, 600); // old pixels: write every byte
 * pool.give(img);
 */
export class RasterPool {
  readonly #free: ArrayBuffer[] = [];
  #keptBytes = 0;

  constructor(readonly capacityBytes: number) {}

  /** A raster whose bytes hold whatever they held: the caller writes every one of them. */
  take: AllocateRgba = (width, height) => {
    const bytes = width * height * 4;
    let best = -1;
    for (const [i, buffer] of this.#free.entries()) {
      const fits = buffer.byteLength >= bytes;
      if (fits && (best < 0 || buffer.byteLength < (this.#free[best] as ArrayBuffer).byteLength)) {
        best = i;
      }
    }
    if (best < 0) return createRgba(width, height);
    const [buffer] = this.#free.splice(best, 1) as [ArrayBuffer];
    this.#keptBytes -= buffer.byteLength;
    return { data: new Uint8ClampedArray(buffer, 0, bytes), width, height };
  };

  /** Takes back rasters nothing will read again (one listed twice is kept once). */
  give(...imgs: RgbaImage[]): void {
    for (const { data } of imgs) {
      const { buffer } = data;
      if (!(buffer instanceof ArrayBuffer) || this.#free.includes(buffer)) continue;
      if (buffer.byteLength > this.capacityBytes) continue;
      // Room for it by letting the smallest kept ones go.
      this.#free.sort((a, b) => b.byteLength - a.byteLength);
      while (this.#keptBytes + buffer.byteLength > this.capacityBytes) {
        this.#keptBytes -= (this.#free.pop() as ArrayBuffer).byteLength;
      }
      this.#free.push(buffer);
      this.#keptBytes += buffer.byteLength;
    }
  }

  /** Lets every kept buffer go. */
  clear(): void {
    this.#free.length = 0;
    this.#keptBytes = 0;
  }
}
