import { type AllocateRgba, createRgba, type RgbaImage } from "../imaging/raster.ts";

/**
 * Pictor's own WebP decoder: libwebp's decoder compiled to a standalone wasm32 module
 * (wasm/webp-scaled/, rebuilt by its build.sh). Its reason to exist is that libwebp can scale
 * while it converts rows to RGBA (WebPDecoderConfig's use_scaling, libvips' webpload `scale`): a 4096×4096 WebP thumbnailed to 800 px never becomes 16 MP of RGBA, and the
 * resampler gets a quarter of the pixels. jSquash's build does not expose it.
 */

export type WebpDecodeOptions = {
  /** Scale the image to this size while decoding: libwebp's area-averaging rescaler. */
  scaledTo?: { width: number; height: number };
  /** Refuse a canvas of more pixels than this, before allocating for it (default: 2³¹ − 1). */
  maxPixels?: number;
  /** Where the pixels go (default: a new raster). */
  allocate?: AllocateRgba;
};

/** libwebp refused the data; the message names its VP8StatusCode. */
export class WebpCodecError extends Error {
  override readonly name = "WebpCodecError";
}

// libwebp's VP8StatusCode, and the wrapper's own refusal of a canvas past max_pixels.
const STATUS: Record<number, string> = {
  1: "out of memory",
  2: "invalid parameter",
  3: "bitstream error",
  4: "unsupported feature",
  5: "suspended",
  6: "user abort",
  7: "not enough data",
  107: "WebP canvas has more pixels than allowed",
};

type Exports = {
  memory: WebAssembly.Memory;
  __wasm_call_ctors: () => void;
  pw_malloc: (size: number) => number;
  pw_free: (ptr: number) => void;
  pw_release_pixels: () => void;
  pw_decode: (
    input: number,
    length: number,
    scaledWidth: number,
    scaledHeight: number,
    maxPixels: number,
  ) => number;
};

export type WebpDecoder = {
  /**
   * Decodes a still WebP (lossy, lossless, with or without alpha) to non-premultiplied RGBA,
   * optionally scaled. Throws WebpCodecError for data libwebp cannot read
   * (animations included).
   */
  decode(bytes: Uint8Array, options?: WebpDecodeOptions): RgbaImage;
  /** The instance's linear memory in bytes: it only grows, so leak checks watch it. */
  memoryBytes(): number;
};

/**
 * Instantiates the decoder from its compiled module (compiled once per worker by the runtime's
 * loader; never fetched). The instance is synchronous and holds no state between calls.
 *
 * @example
 * const webp = await instantiateWebpDecoder(await loadLocalWasm("webp"));
 * const small = webp.decode(bytes, { scaledTo: { width: 1024, height: 1024 } });
 */
export async function instantiateWebpDecoder(module: WebAssembly.Module): Promise<WebpDecoder> {
  const instance = await WebAssembly.instantiate(module, {});
  const x = instance.exports as unknown as Exports;
  x.__wasm_call_ctors();

  return {
    memoryBytes: () => x.memory.buffer.byteLength,

    decode(bytes, options = {}) {
      const input = x.pw_malloc(bytes.length);
      if (input === 0) throw new WebpCodecError(`Out of memory for ${bytes.length} bytes`);
      new Uint8Array(x.memory.buffer, input, bytes.length).set(bytes);
      try {
        const to = options.scaledTo;
        const at = x.pw_decode(
          input,
          bytes.length,
          to?.width ?? 0,
          to?.height ?? 0,
          options.maxPixels ?? 0x7fffffff,
        );
        const [pixels, width, height, status] = Array.from(
          new Int32Array(x.memory.buffer, at, 4),
        ) as [number, number, number, number];
        if (status !== 0) {
          throw new WebpCodecError(STATUS[status] ?? `libwebp status ${status}`);
        }
        // A copy: views of wasm memory go stale when it grows, and the next decode reuses it.
        const img = (options.allocate ?? createRgba)(width, height);
        img.data.set(new Uint8ClampedArray(x.memory.buffer, pixels, width * height * 4));
        x.pw_release_pixels();
        return img;
      } finally {
        x.pw_free(input);
      }
    },
  };
}
