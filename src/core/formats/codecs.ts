import avifDecode, { init as initAvifDecode } from "@jsquash/avif/decode.js";
import avifEncode, { init as initAvifEncode } from "@jsquash/avif/encode.js";
import mozjpegEncode, { init as initMozjpegEncode } from "@jsquash/jpeg/encode.js";
import pngEncode, { init as initPngEncode } from "@jsquash/png/encode.js";
import { RasterPool, type RgbaImage } from "../imaging/raster.ts";
import { instantiateResampler } from "../imaging/resampler.ts";
import { checkDecodable, ImageDataError, UnsupportedImageError } from "./decode-limits.ts";
import {
  instantiateJpegTurbo,
  JpegCodecError,
  type JpegScaleDenom,
  type Region,
} from "./jpeg-turbo.ts";
import { instantiatePngDecoder } from "./png-stream.ts";
import { instantiateWebpEncoder } from "./webp-encode.ts";
import { instantiateWebpDecoder } from "./webp-scaled.ts";

export { ImageDataError, UnsupportedImageError };

/**
 * The WebAssembly files the codecs need: package paths (in node_modules), and `wasm/…` paths of
 * the project's own builds, relative to its root. A runtime adapter compiles them from wherever
 * it ships them (never fetched: jSquash's own fetching fails outside browsers, jSquash#61).
 */
export const WASM_FILES = {
  // libjpeg-turbo (wasm/jpeg-scaled/): decodes at 1/2–1/8 scale in the DCT, which jSquash's
  // MozJPEG cannot, and encodes 4× faster than MozJPEG with its trellis quantisation.
  jpeg: "wasm/jpeg-scaled/pictor_jpeg.wasm",
  // MozJPEG: the encoder of `mozjpeg: true`, for smaller files at 4–5× the encoding time.
  mozjpegEncode: "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm",
  // jSquash's PNG module: its encoder.
  png: "@jsquash/png/codec/pkg/squoosh_png_bg.wasm",
  // zlib's inflate and the PNG filters (wasm/png/), under png-stream.ts's decoder.
  pngDecode: "wasm/png/pictor_png.wasm",
  // libwebp's decoder (wasm/webp-scaled/): crops and scales while it decodes, which jSquash's
  // build cannot.
  webpDecode: "wasm/webp-scaled/pictor_webp.wasm",
  // libwebp's encoder (wasm/webp-encode/): the pixels written once, and a wasm SIMD inverse
  // transform; ~15 % faster than jSquash's build of it, the same files.
  webpEncode: "wasm/webp-encode/pictor_webp_enc.wasm",
  avifDecode: "@jsquash/avif/codec/dec/avif_dec.wasm",
  avifEncode: "@jsquash/avif/codec/enc/avif_enc.wasm",
  // Pictor's SIMD resampler (wasm/resample/): the convolution of every resize but nearest.
  resample: "wasm/resample/resample.wasm",
} as const;

export type WasmName = keyof typeof WASM_FILES;
export type WasmLoader = (name: WasmName) => Promise<WebAssembly.Module>;

export const DECODABLE_FORMATS = ["jpeg", "png", "webp", "avif"] as const;
export type DecodableFormat = (typeof DECODABLE_FORMATS)[number];

export const RESIZE_KERNELS = ["lanczos3", "mitchell", "catrom", "triangle", "nearest"] as const;
export type ResizeKernel = (typeof RESIZE_KERNELS)[number];

export type DecodeOptions = {
  /**
   * JPEG and WebP: decode at 1/scaleDenom of each side (rounded up), reduced inside the inverse
   * DCT (libjpeg's scale_denom) or by libwebp's rescaler as rows are converted (sharp's
   * shrink-on-load). Other formats ignore it.
   */
  scaleDenom?: JpegScaleDenom;
  /**
   * Refuse, before decoding, an image of more pixels than this (MAX_PIXELS); default: what an
   * RGBA buffer under 2 GiB holds.
   */
  maxPixels?: number;
  /**
   * JPEG and PNG: decode just this box of the image as stored (after any scaleDenom), which
   * skips the JPEG's IDCT of the rows above it and decodes nothing below it. Other formats
   * ignore it.
   */
  region?: Region;
};

const RGBA_MAX_PIXELS = Math.floor((2 ** 31 - 1) / 4);

export type EncodeOptions =
  | {
      format: "jpeg";
      quality: number;
      progressive?: boolean;
      chromaSubsampling?: "4:2:0" | "4:4:4";
      /** MozJPEG instead of libjpeg-turbo: smaller files, slower (see `encode`). */
      mozjpeg?: boolean;
    }
  | { format: "png" }
  | { format: "webp"; quality: number; lossless?: boolean }
  | { format: "avif"; quality: number; speed?: number };

// jSquash's typings describe init() with emscripten options only; at run time every init takes
// the compiled module first (utils.js initEmscriptenModule), which is what keeps it from fetching.
type InitWithModule = (module: WebAssembly.Module) => Promise<unknown>;
const withModule = (init: unknown) => init as InitWithModule;

// Their glue keeps its instance in a module variable that a second init does not replace.
const WASM_BINDGEN = new Set<WasmName>(["png"]);

/**
 * Reads the memory size from what a jSquash init resolves to: wasm-bindgen's exports (with
 * `memory`) or an Emscripten module (whose HEAP8 is replaced whenever the memory grows).
 */
function memoryOf(initialised: unknown): () => number {
  const x = initialised as { memory?: WebAssembly.Memory; HEAP8?: Int8Array };
  return () => x.memory?.buffer.byteLength ?? x.HEAP8?.buffer.byteLength ?? 0;
}

const asImageData = (img: RgbaImage) => img as unknown as ImageData;
/**
 * For jSquash's PNG and AVIF encoders, which read `data.buffer` whole: a raster that views part
 * of a larger buffer (one from the RasterPool) is copied to a buffer of its own.
 */
const ownBuffer = (img: RgbaImage): ImageData =>
  asImageData(
    img.data.byteOffset === 0 && img.data.byteLength === img.data.buffer.byteLength
      ? img
      : { ...img, data: img.data.slice() },
  );
const fromImageData = (img: ImageData): RgbaImage => ({
  data: img.data,
  width: img.width,
  height: img.height,
});

export type Codecs = ReturnType<typeof createCodecs>;

/**
 * What the raster pool of a codecs instance keeps between pipelines: a 9 MP photo's RGBA with
 * room to spare, so that a thumbnail's or a conversion's rasters are the last one's memory.
 */
const KEEP_RASTER_BYTES = 64 * 1024 * 1024;

/**
 * Decoders, encoders and the resampler, each initialised on first use from `load` and then
 * reused: one cached init promise per codec per worker. The rasters that the decoders and the
 * resampler make come from a RasterPool, to which `recycle` gives them back.
 *
 * @example
 * const codecs = createCodecs(loadLocalWasm);
 * const img = await codecs.decode(pngBytes, "png");
 * const webp = await codecs.encode(img, { format: "webp", quality: 80 });
 */
export function createCodecs(load: WasmLoader) {
  const rasters = new RasterPool(KEEP_RASTER_BYTES);
  const ready = new Map<WasmName, Promise<unknown>>();
  // The linear memory of each codec instantiated so far, in bytes.
  const memories = new Map<WasmName, () => number>();
  const init = (name: WasmName, ...inits: unknown[]) => {
    let p = ready.get(name);
    if (!p) {
      p = (async () => {
        const module = await load(name);
        for (const i of inits) memories.set(name, memoryOf(await withModule(i)(module)));
      })();
      ready.set(name, p);
    }
    return p;
  };
  // Pictor's own modules (wasm/…): one instance each, its memory watched, dropped on release.
  const own = new Map<WasmName, Promise<unknown>>();
  const ownInstance =
    <T extends { memoryBytes(): number }>(
      name: WasmName,
      instantiate: (module: WebAssembly.Module) => Promise<T>,
    ) =>
    (): Promise<T> => {
      let p = own.get(name) as Promise<T> | undefined;
      if (!p) {
        p = load(name).then(async (module) => {
          const instance = await instantiate(module);
          memories.set(name, instance.memoryBytes);
          return instance;
        });
        own.set(name, p);
      }
      return p;
    };
  const jpegCodec = ownInstance("jpeg", instantiateJpegTurbo);
  const resamplerInstance = ownInstance("resample", instantiateResampler);
  const webpDecoder = ownInstance("webpDecode", instantiateWebpDecoder);
  const webpEncoder = ownInstance("webpEncode", instantiateWebpEncoder);
  const pngDecoder = ownInstance("pngDecode", instantiatePngDecoder);

  async function decodeWith(
    format: DecodableFormat,
    bytes: Uint8Array,
    scaleDenom: JpegScaleDenom,
    maxPixels: number,
    size: { width: number; height: number },
    region: Region | undefined,
  ): Promise<RgbaImage> {
    if (format === "jpeg") {
      const { data, width, height } = (await jpegCodec()).decode(bytes, {
        scaleDenom,
        maxPixels,
        region,
        allocate: rasters.take,
      });
      return { data, width, height };
    }
    if (format === "png") return (await pngDecoder()).decode(bytes, region, rasters.take);
    if (format === "webp") {
      const scaledTo =
        scaleDenom === 1
          ? undefined
          : {
              width: Math.ceil(size.width / scaleDenom),
              height: Math.ceil(size.height / scaleDenom),
            };
      return (await webpDecoder()).decode(bytes, { scaledTo, maxPixels, allocate: rasters.take });
    }
    await init("avifDecode", initAvifDecode);
    // The decoder takes an ArrayBuffer of exactly the file.
    const img = await avifDecode(bytes.slice().buffer);
    if (!img) throw new Error("AVIF decoding failed");
    return fromImageData(img);
  }

  return {
    /** The linear memory of every codec instantiated so far, in bytes, by WASM_FILES name. */
    wasmMemoryBytes(): Partial<Record<WasmName, number>> {
      return Object.fromEntries([...memories].map(([name, bytes]) => [name, bytes()]));
    },

    /**
     * Drops the instances whose memory grew past `bytes`: a WebAssembly memory never shrinks, so
     * an isolate would otherwise carry the sum of every codec's peak (128 MB on Workers). The
     * next use instantiates the compiled module again, which is cheap. Call it between tasks,
     * never during one. jSquash's PNG glue (wasm-bindgen) keeps its first instance for good, so
     * it is never dropped. The raster pool lets go of everything it keeps. Returns the names
     * dropped.
     */
    releaseLargerThan(bytes: number): WasmName[] {
      rasters.clear();
      const dropped: WasmName[] = [];
      for (const [name, size] of memories) {
        if (size() <= bytes || WASM_BINDGEN.has(name)) continue;
        memories.delete(name);
        if (!own.delete(name)) ready.delete(name);
        dropped.push(name);
      }
      return dropped;
    },

    /**
     * Compiles and instantiates `names` (default: every codec) now rather than on first use
     * (seconds for all of them: the AVIF encoder alone is megabytes of wasm), so no request
     * pays for it.
     */
    async warm(names: readonly WasmName[] = Object.keys(WASM_FILES) as WasmName[]): Promise<void> {
      const start: Record<WasmName, () => Promise<unknown>> = {
        jpeg: jpegCodec,
        webpDecode: webpDecoder,
        pngDecode: pngDecoder,
        mozjpegEncode: () => init("mozjpegEncode", initMozjpegEncode),
        png: () => init("png", initPngEncode),
        webpEncode: webpEncoder,
        avifDecode: () => init("avifDecode", initAvifDecode),
        avifEncode: () => init("avifEncode", initAvifEncode),
        resample: resamplerInstance,
      };
      await Promise.all(names.map((name) => start[name]()));
    },

    /**
     * Decodes to 8-bit RGBA as stored: EXIF orientation is not applied here (see exif.ts), so
     * every format is oriented by the same code. 16-bit PNGs are rounded to 8 bits. Before any
     * decoder runs, the bitstream's own header must declare the size the container does, within
     * `maxPixels`, with work bounded by that size (checkDecodable); a decoder's failure becomes
     * an ImageDataError in plain words, its own message kept as the `cause`.
     */
    async decode(
      bytes: Uint8Array,
      format: DecodableFormat,
      options: DecodeOptions = {},
    ): Promise<RgbaImage> {
      const maxPixels = options.maxPixels ?? RGBA_MAX_PIXELS;
      const size = await checkDecodable(bytes, format, maxPixels);
      const scale = format === "jpeg" || format === "webp" ? (options.scaleDenom ?? 1) : 1;
      const region = format === "jpeg" || format === "png" ? options.region : undefined;
      let img: RgbaImage;
      try {
        img = await decodeWith(format, bytes, scale, maxPixels, size, region);
      } catch (err) {
        throw decodeFailure(format, err);
      }
      // libjpeg rounds reduced sides up; every decoder must give what the header declared.
      if (
        img.width !== (region?.width ?? Math.ceil(size.width / scale)) ||
        img.height !== (region?.height ?? Math.ceil(size.height / scale))
      ) {
        throw new ImageDataError(
          `${format.toUpperCase()} declares ${size.width}×${size.height} but decodes to ${img.width * scale}×${img.height * scale}`,
        );
      }
      return img;
    },

    async encode(img: RgbaImage, options: EncodeOptions): Promise<Uint8Array> {
      switch (options.format) {
        case "jpeg":
          if (options.mozjpeg) {
            // jSquash's MozJPEG with its defaults bar the scan mode and subsampling: trellis
            // quantisation (this build writes an empty baseline JPEG with trellis_loops 0, so it
            // is always on), quantisation table 3 (Robidoux's, tuned for what is seen rather than
            // PSNR), overshoot deringing and optimised Huffman coding: sharp's `mozjpeg: true`.
            // Measured 800×600 q80: 38 ms for a file 17 % smaller than libjpeg-turbo's, in 9 ms.
            await init("mozjpegEncode", initMozjpegEncode);
            const progressive = options.progressive ?? false;
            const out = new Uint8Array(
              await mozjpegEncode(asImageData(img), {
                quality: options.quality,
                baseline: !progressive,
                progressive,
                optimize_coding: true,
                auto_subsample: false,
                chroma_subsample: options.chromaSubsampling === "4:4:4" ? 1 : 2,
              }),
            );
            // On a libjpeg error the glue returns the message string, whose missing `.buffer`
            // becomes an empty array here: refuse it rather than store a 0-byte "JPEG".
            if (out.length < 4 || out[0] !== 0xff || out[1] !== 0xd8) {
              throw new Error("MozJPEG failed to encode the image");
            }
            return out;
          }
          // libjpeg's standard tables with optimised Huffman coding, as sharp writes by default:
          // measured 9 ms for an 800×600 q80 encode against 36 ms with MozJPEG's trellis
          // quantisation; the file is the size of sharp's, 21 % larger than MozJPEG's.
          return (await jpegCodec()).encode(img, {
            quality: options.quality,
            progressive: options.progressive ?? false,
            chromaSubsampling: options.chromaSubsampling ?? "4:2:0",
            optimizeCoding: true,
          });
        case "png":
          await init("png", initPngEncode);
          return new Uint8Array(await pngEncode(ownBuffer(img)));
        case "webp":
          return (await webpEncoder()).encode(img, {
            quality: options.quality,
            lossless: options.lossless ?? false,
            // Lossless must keep RGB under transparent pixels to round-trip exactly.
            exact: options.lossless ?? false,
          });
        case "avif":
          await init("avifEncode", initAvifEncode);
          return new Uint8Array(
            await avifEncode(ownBuffer(img), {
              quality: options.quality,
              speed: options.speed ?? 8,
            }),
          );
      }
    },

    /**
     * Gives rasters that nothing will read again (any this instance made: decoded, shrunk,
     * resized) to the pool, for the next decode or resize to fill.
     */
    recycle(...imgs: RgbaImage[]): void {
      rasters.give(...imgs);
    },

    /** libvips' integer box shrink (Resampler.shrink). Does not mutate `img`. */
    async shrink(img: RgbaImage, factorX: number, factorY: number): Promise<RgbaImage> {
      return (await resamplerInstance()).shrink(img, factorX, factorY, rasters.take);
    },

    /** Resamples (premultiplied alpha, sRGB values, as sharp does). Does not mutate `img`. */
    async resize(
      img: RgbaImage,
      width: number,
      height: number,
      kernel: ResizeKernel,
    ): Promise<RgbaImage> {
      if (kernel === "nearest") return nearest(img, width, height);
      return (await resamplerInstance()).resample(img, width, height, kernel, rasters.take);
    },
  };
}

/**
 * libjpeg's refusals worth telling in their own terms; every other codec message (Rust panics
 * such as "unwrap_throw failed", libjpeg's internals) stays in the log, never in a response.
 */
function decodeFailure(format: DecodableFormat, err: unknown): Error {
  if (err instanceof ImageDataError || err instanceof UnsupportedImageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The wrapper's own refusals of progressive scan bombs (pictor_jpeg.c check_scan_limit).
  if (err instanceof JpegCodecError && /^JPEG('s progressive scans| has more than)/.test(message)) {
    return new ImageDataError(`${message}; such files cannot be decoded`, { cause: err });
  }
  return new ImageDataError(
    `The ${format.toUpperCase()} image data is corrupt or uses a feature that cannot be decoded`,
    { cause: err },
  );
}

/** Nearest-neighbour resampling: a copy per pixel, no filter. */
function nearest(img: RgbaImage, width: number, height: number): RgbaImage {
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height)) * img.width;
    for (let x = 0; x < width; x++) {
      out[y * width + x] = src[
        row + Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width))
      ] as number;
    }
  }
  return { data: new Uint8ClampedArray(out.buffer), width, height };
}
