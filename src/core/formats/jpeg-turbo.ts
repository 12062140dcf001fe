import { expectInteger, expectRgba } from "../imaging/kernels/validate.ts";
import { type AllocateRgba, createRgba, type RgbaImage } from "../imaging/raster.ts";

/**
 * Pictor's own JPEG codec: libjpeg-turbo's C code compiled to a standalone wasm32 module
 * (wasm/jpeg-scaled/, rebuilt by its build.sh). Its reason to exist is decoding at 1/2, 1/4 or
 * 1/8 of the size inside the inverse DCT (libjpeg's scale_denom, sharp's "shrink-on-load"):
 * a 4000×3000 photo decoded at 1/4 never materialises 12 MP of pixels. It also reads CMYK/YCCK
 * files (converted naively, without a colour profile) and encodes with libjpeg's standard tables.
 */

/** Reduction factors the IDCT can apply while decoding: each side becomes ceil(side / n). */
export const JPEG_SCALE_DENOMS = [1, 2, 4, 8] as const;
export type JpegScaleDenom = (typeof JPEG_SCALE_DENOMS)[number];

export type JpegDecodeOptions = {
  /** Decode at 1/scaleDenom of the size (default 1). */
  scaleDenom?: JpegScaleDenom;
  /**
   * Full-size decodes only: libjpeg's JDCT_IFAST integer IDCT instead of the accurate
   * JDCT_ISLOW (the reduced-size IDCTs are the same either way).
   */
  fastIdct?: boolean;
  /** Refuse a frame of more pixels than this, before allocating for it (default: 2³¹ − 1). */
  maxPixels?: number;
  /**
   * Decode only this box of the (reduced) image: the rows above it are skipped without their
   * IDCT, the iMCU columns outside it never converted, the rows below it never decoded.
   */
  region?: Region;
  /** Where the pixels go (default: a new raster). */
  allocate?: AllocateRgba;
};

export type Region = { left: number; top: number; width: number; height: number };

/**
 * Progressive scans read before a decode is refused: libjpeg-turbo's guidance for untrusted
 * input (djpeg -maxscans, TJPARAM_SCANLIMIT); encoders write about 10.
 */
export const JPEG_MAX_SCANS = 500;

export type JpegEncodeOptions = {
  quality: number;
  progressive?: boolean;
  chromaSubsampling?: "4:2:0" | "4:4:4";
  /** Two passes for Huffman tables fitted to the image: smaller files, slower (default true). */
  optimizeCoding?: boolean;
};

/** libjpeg refused the data; the message is libjpeg's own ("Not a JPEG file: starts with…"). */
export class JpegCodecError extends Error {
  override readonly name = "JpegCodecError";
}

type Exports = {
  memory: WebAssembly.Memory;
  __stack_pointer: WebAssembly.Global;
  __wasm_call_ctors: () => void;
  pj_malloc: (size: number) => number;
  pj_free: (ptr: number) => void;
  pj_reset: () => void;
  pj_release_pixels: () => void;
  pj_release_encoded: () => void;
  pj_decode: (
    input: number,
    length: number,
    scaleDenom: number,
    fastIdct: number,
    maxPixels: number,
    scanLimit: number,
    regionLeft: number,
    regionTop: number,
    regionWidth: number,
    regionHeight: number,
  ) => number;
  pj_encode: (
    rgba: number,
    width: number,
    height: number,
    quality: number,
    progressive: number,
    subsample444: number,
    optimize: number,
  ) => number;
};

export type JpegTurbo = {
  /**
   * Decodes a JPEG to RGBA (grey and CMYK/YCCK too), optionally reduced in the DCT. Does not
   * apply EXIF orientation. `warnings` counts libjpeg's corrupt-data warnings (a truncated file
   * decodes, its missing part grey). Throws JpegCodecError for data libjpeg cannot read.
   */
  decode(bytes: Uint8Array, options?: JpegDecodeOptions): RgbaImage & { warnings: number };
  /** Encodes RGBA as baseline (or progressive) JFIF; alpha is ignored: flatten first. */
  encode(img: RgbaImage, options: JpegEncodeOptions): Uint8Array;
  /** The instance's linear memory in bytes: it only grows, so leak checks watch it. */
  memoryBytes(): number;
};

/**
 * Instantiates the codec from its compiled module (compiled once per worker by the runtime's
 * loader; never fetched). The instance is synchronous and holds no state between calls.
 *
 * @example
 * const jpeg = await instantiateJpegTurbo(await loadLocalWasm("jpeg"));
 * const quarter = jpeg.decode(bytes, { scaleDenom: 4 }); // 4000×3000 → 1000×750
 */
export async function instantiateJpegTurbo(module: WebAssembly.Module): Promise<JpegTurbo> {
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      // libjpeg's error_exit must not return: this exception unwinds the wasm frames (the C side
      // has no setjmp/longjmp), and `guarded` below restores the stack and frees what was left.
      pj_fail(messagePtr: number): never {
        const bytes = new Uint8Array((memory as WebAssembly.Memory).buffer, messagePtr);
        const message = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
        throw new JpegCodecError(message);
      },
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  const x = instance.exports as unknown as Exports;
  memory = x.memory;
  x.__wasm_call_ctors();

  const guarded = <T>(run: () => T): T => {
    const stack = x.__stack_pointer.value as number;
    try {
      return run();
    } catch (err) {
      x.__stack_pointer.value = stack;
      x.pj_reset();
      throw err;
    }
  };
  const copyIn = (bytes: Uint8Array): number => {
    const ptr = x.pj_malloc(bytes.length);
    if (ptr === 0) throw new JpegCodecError(`Out of memory for ${bytes.length} bytes`);
    new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  };
  const result = (ptr: number, count: number) =>
    Array.from(new Int32Array(x.memory.buffer, ptr, count));

  return {
    memoryBytes: () => x.memory.buffer.byteLength,

    decode(bytes, options = {}) {
      const scaleDenom = options.scaleDenom ?? 1;
      if (!JPEG_SCALE_DENOMS.includes(scaleDenom)) {
        throw new RangeError(
          `Expected 1, 2, 4 or 8 for scaleDenom but received ${String(scaleDenom)}`,
        );
      }
      const input = copyIn(bytes);
      try {
        return guarded(() => {
          const at = x.pj_decode(
            input,
            bytes.length,
            scaleDenom,
            options.fastIdct ? 1 : 0,
            options.maxPixels ?? 0x7fffffff,
            JPEG_MAX_SCANS,
            options.region?.left ?? 0,
            options.region?.top ?? 0,
            options.region?.width ?? 0,
            options.region?.height ?? 0,
          );
          const [pixels, width, height, warnings] = result(at, 4) as [
            number,
            number,
            number,
            number,
          ];
          // A copy: views of wasm memory go stale when it grows, and the next decode reuses it.
          const img = (options.allocate ?? createRgba)(width, height);
          img.data.set(new Uint8ClampedArray(x.memory.buffer, pixels, width * height * 4));
          x.pj_release_pixels();
          return { ...img, warnings };
        });
      } finally {
        x.pj_free(input);
      }
    },

    encode(img, options) {
      expectInteger("quality", options.quality, 1, 100);
      // The C side reads width × height × 4 bytes whatever it is given: a short buffer would
      // encode whatever lies after it in the module's memory.
      expectRgba(img);
      const input = copyIn(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length));
      try {
        return guarded(() => {
          const at = x.pj_encode(
            input,
            img.width,
            img.height,
            options.quality,
            options.progressive ? 1 : 0,
            options.chromaSubsampling === "4:4:4" ? 1 : 0,
            options.optimizeCoding === false ? 0 : 1,
          );
          const [ptr, length] = result(at, 2) as [number, number];
          const out = new Uint8Array(x.memory.buffer.slice(ptr, ptr + length));
          x.pj_release_encoded();
          return out;
        });
      } finally {
        x.pj_free(input);
      }
    },
  };
}
