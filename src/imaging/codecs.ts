import avifDecode, { init as initAvifDecode } from "@jsquash/avif/decode.js";
import avifEncode, { init as initAvifEncode } from "@jsquash/avif/encode.js";
import jpegDecode, { init as initJpegDecode } from "@jsquash/jpeg/decode.js";
import jpegEncode, { init as initJpegEncode } from "@jsquash/jpeg/encode.js";
import pngDecode, { init as initPngDecode } from "@jsquash/png/decode.js";
import pngEncode, { init as initPngEncode } from "@jsquash/png/encode.js";
import resize, { initResize } from "@jsquash/resize";
import webpDecode, { init as initWebpDecode } from "@jsquash/webp/decode.js";
import webpEncode, { init as initWebpEncode } from "@jsquash/webp/encode.js";
import { probeImageHeader } from "./probe.ts";
import type { RgbaImage } from "./raster.ts";

/** The file is valid but uses a feature the codec cannot read. */
export class UnsupportedImageError extends Error {
  override readonly name = "UnsupportedImageError";
}

/**
 * The WebAssembly files the codecs need, by package path. A runtime adapter compiles them from
 * wherever it ships them (never fetched: jSquash's own fetching fails outside browsers, jSquash#61).
 * WebP's encoder is the SIMD build: jSquash's glue picks it whenever SIMD is available, which it is
 * on Bun, Node and Workers, and the module must match the glue.
 */
export const WASM_FILES = {
  jpegDecode: "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm",
  jpegEncode: "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm",
  png: "@jsquash/png/codec/pkg/squoosh_png_bg.wasm",
  webpDecode: "@jsquash/webp/codec/dec/webp_dec.wasm",
  webpEncode: "@jsquash/webp/codec/enc/webp_enc_simd.wasm",
  avifDecode: "@jsquash/avif/codec/dec/avif_dec.wasm",
  avifEncode: "@jsquash/avif/codec/enc/avif_enc.wasm",
  resize: "@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm",
} as const;

export type WasmName = keyof typeof WASM_FILES;
export type WasmLoader = (name: WasmName) => Promise<WebAssembly.Module>;

export const DECODABLE_FORMATS = ["jpeg", "png", "webp", "avif"] as const;
export type DecodableFormat = (typeof DECODABLE_FORMATS)[number];

export const RESIZE_KERNELS = ["lanczos3", "mitchell", "catrom", "triangle", "nearest"] as const;
export type ResizeKernel = (typeof RESIZE_KERNELS)[number];

export type EncodeOptions =
  | {
      format: "jpeg";
      quality: number;
      progressive?: boolean;
      chromaSubsampling?: "4:2:0" | "4:4:4";
    }
  | { format: "png" }
  | { format: "webp"; quality: number; lossless?: boolean }
  | { format: "avif"; quality: number; speed?: number };

// jSquash's typings describe init() with emscripten options only; at run time every init takes
// the compiled module first (utils.js initEmscriptenModule), which is what keeps it from fetching.
type InitWithModule = (module: WebAssembly.Module) => Promise<unknown>;
const withModule = (init: unknown) => init as InitWithModule;

const asImageData = (img: RgbaImage) => img as unknown as ImageData;
const fromImageData = (img: ImageData): RgbaImage => ({
  data: img.data,
  width: img.width,
  height: img.height,
});

export type Codecs = ReturnType<typeof createCodecs>;

/**
 * Decoders, encoders and the resampler, each initialised on first use from `load` and then
 * reused: one cached init promise per codec per worker.
 *
 * @example
 * const codecs = createCodecs(loadWasmFromNodeModules);
 * const img = await codecs.decode(pngBytes, "png");
 * const webp = await codecs.encode(img, { format: "webp", quality: 80 });
 */
export function createCodecs(load: WasmLoader) {
  const ready = new Map<string, Promise<unknown>>();
  const once = (key: string, start: () => Promise<unknown>) => {
    let p = ready.get(key);
    if (!p) {
      p = start();
      ready.set(key, p);
    }
    return p;
  };
  const init = (name: WasmName, ...inits: unknown[]) =>
    once(name, async () => {
      const module = await load(name);
      for (const i of inits) await withModule(i)(module);
    });

  return {
    /**
     * Decodes to 8-bit RGBA as stored: EXIF orientation is not applied here (see exif.ts), so
     * every format is oriented by the same code. 16-bit PNGs are rounded to 8 bits.
     */
    async decode(bytes: Uint8Array, format: DecodableFormat): Promise<RgbaImage> {
      // The decoders take an ArrayBuffer of exactly the file.
      const buffer = bytes.slice().buffer;
      switch (format) {
        case "jpeg": {
          // This mozjpeg build cannot convert CMYK to RGB: it calls exit(), which kills the codec
          // instance for every later image, so such files must never reach it.
          const header = probeImageHeader(bytes);
          if (header.kind === "ok" && header.components === 4) {
            throw new UnsupportedImageError(
              "CMYK JPEGs cannot be decoded yet; convert the file to RGB",
            );
          }
          await init("jpegDecode", initJpegDecode);
          return fromImageData(await jpegDecode(buffer, { preserveOrientation: false }));
        }
        case "png":
          await init("png", initPngDecode, initPngEncode);
          return fromImageData(await pngDecode(buffer));
        case "webp":
          await init("webpDecode", initWebpDecode);
          return fromImageData(await webpDecode(buffer));
        case "avif": {
          await init("avifDecode", initAvifDecode);
          const img = await avifDecode(buffer);
          if (!img) throw new Error("AVIF decoding failed");
          return fromImageData(img);
        }
      }
    },

    async encode(img: RgbaImage, options: EncodeOptions): Promise<Uint8Array> {
      switch (options.format) {
        case "jpeg": {
          await init("jpegEncode", initJpegEncode);
          const progressive = options.progressive ?? false;
          const out = await jpegEncode(asImageData(img), {
            quality: options.quality,
            baseline: !progressive,
            progressive,
            optimize_coding: true,
            auto_subsample: false,
            chroma_subsample: options.chromaSubsampling === "4:4:4" ? 1 : 2,
            // Baseline with optimised Huffman tables: measured 37 ms for an 800×533 encode against
            // 78 ms with jSquash's progressive defaults, for a file 7 % larger. (Turning trellis
            // quantisation off, trellis_loops: 0, makes this build write an empty baseline JPEG.)
          });
          return new Uint8Array(out);
        }
        case "png":
          await init("png", initPngDecode, initPngEncode);
          return new Uint8Array(await pngEncode(asImageData(img)));
        case "webp":
          await init("webpEncode", initWebpEncode);
          return new Uint8Array(
            await webpEncode(asImageData(img), {
              quality: options.quality,
              lossless: options.lossless ? 1 : 0,
              // Lossless must keep RGB under transparent pixels to round-trip exactly.
              exact: options.lossless ? 1 : 0,
            }),
          );
        case "avif":
          await init("avifEncode", initAvifEncode);
          return new Uint8Array(
            await avifEncode(asImageData(img), {
              quality: options.quality,
              speed: options.speed ?? 8,
            }),
          );
      }
    },

    /** Resamples with a jSquash filter (premultiplied alpha, sRGB values). Does not mutate `img`. */
    async resize(
      img: RgbaImage,
      width: number,
      height: number,
      kernel: ResizeKernel,
    ): Promise<RgbaImage> {
      await init("resize", initResize);
      if (kernel === "nearest") return nearest(img, width, height);
      const out = await resize(asImageData({ ...img, data: img.data.slice() }), {
        width,
        height,
        method: kernel,
        fitMethod: "stretch",
        premultiply: true,
        linearRGB: false,
      });
      return fromImageData(out);
    },
  };
}

/** Nearest-neighbour resampling: jSquash's resizer has no such filter. */
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
