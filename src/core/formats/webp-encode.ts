import { expectRgba } from "../imaging/kernels/validate.ts";
import type { RgbaImage } from "../imaging/raster.ts";
import { WebpCodecError } from "./webp-scaled.ts";

/**
 * Pictor's own WebP encoder: libwebp's encoder compiled to a standalone wasm32 module
 * (wasm/webp-encode/, rebuilt by its build.sh), with a wasm SIMD inverse transform. It replaced
 * jSquash's build of the same libwebp, which made the same files ~15 % slower (its glue copies the
 * pixels byte by byte, and libwebp's SSE2 transform runs on emulated 16-bit multiplies).
 */

export type WebpEncodeOptions = {
  /** Lossy: 0–100. Lossless: the effort, 0–100. */
  quality: number;
  lossless?: boolean;
  /** Keep the RGB under fully transparent pixels (lossless round trips need it). */
  exact?: boolean;
};

// libwebp's WebPEncodingError.
const ERRORS: Record<number, string> = {
  1: "out of memory",
  2: "out of memory for the bitstream",
  3: "a null parameter",
  4: "an invalid configuration",
  5: "a side over 16383 pixels",
  6: "partition 0 over 512 KiB",
  7: "a partition over 16 MiB",
  8: "a failed write",
  9: "a file over 4 GiB",
  10: "a user abort",
};

type Exports = {
  memory: WebAssembly.Memory;
  __wasm_call_ctors: () => void;
  pe_malloc: (size: number) => number;
  pe_free: (ptr: number) => void;
  pe_release_output: () => void;
  pe_encode: (
    rgba: number,
    width: number,
    height: number,
    quality: number,
    lossless: number,
    exact: number,
  ) => number;
};

export type WebpEncoder = {
  /**
   * Encodes non-premultiplied RGBA as a still WebP with libwebp's defaults (method 4, sharp's
   * `effort: 4`); alpha is kept where it is not all opaque. Throws WebpCodecError naming
   * libwebp's error.
   */
  encode(img: RgbaImage, options: WebpEncodeOptions): Uint8Array;
  /** The instance's linear memory in bytes: it only grows, so leak checks watch it. */
  memoryBytes(): number;
};

/**
 * Instantiates the encoder from its compiled module (compiled once per worker by the runtime's
 * loader; never fetched). The instance is synchronous and holds no state between calls.
 *
 * @example
 * const webp = await instantiateWebpEncoder(await loadLocalWasm("webpEncode"));
 * const file = webp.encode(img, { quality: 80 });
 */
export async function instantiateWebpEncoder(module: WebAssembly.Module): Promise<WebpEncoder> {
  const instance = await WebAssembly.instantiate(module, {});
  const x = instance.exports as unknown as Exports;
  x.__wasm_call_ctors();

  return {
    memoryBytes: () => x.memory.buffer.byteLength,

    encode(img, options) {
      expectRgba(img);
      const bytes = img.data.length;
      const rgba = x.pe_malloc(bytes);
      if (rgba === 0) throw new WebpCodecError(`Out of memory for ${bytes} bytes`);
      try {
        new Uint8Array(x.memory.buffer, rgba, bytes).set(img.data);
        const at = x.pe_encode(
          rgba,
          img.width,
          img.height,
          options.quality,
          options.lossless ? 1 : 0,
          options.exact ? 1 : 0,
        );
        const [file, length, error] = Array.from(new Int32Array(x.memory.buffer, at, 3)) as [
          number,
          number,
          number,
        ];
        if (error !== 0) {
          throw new WebpCodecError(
            `libwebp could not encode: ${ERRORS[error] ?? `error ${error}`}`,
          );
        }
        // A copy: the next encode reuses the memory.
        const out = new Uint8Array(x.memory.buffer, file, length).slice();
        x.pe_release_output();
        return out;
      } finally {
        x.pe_free(rgba);
      }
    },
  };
}
