import avifDecode from "@jsquash/avif/codec/dec/avif_dec.wasm";
import avifEncode from "@jsquash/avif/codec/enc/avif_enc.wasm";
import mozjpegEncode from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
import argon2 from "../../../wasm/argon2/argon2.wasm";
import jpeg from "../../../wasm/jpeg-scaled/pictor_jpeg.wasm";
import pngDecode from "../../../wasm/png/pictor_png.wasm";
import resample from "../../../wasm/resample/resample.wasm";
import webpEncode from "../../../wasm/webp-encode/pictor_webp_enc.wasm";
import webpDecode from "../../../wasm/webp-scaled/pictor_webp.wasm";
import { createEdgeApp } from "./edge-app.ts";

// The Cloudflare Workers entry (module syntax). Wrangler's CompiledWasm rule turns each .wasm
// import into a WebAssembly.Module (see docs/edge.md); the paths are WASM_FILES'.
export default createEdgeApp({
  wasm: {
    jpeg,
    mozjpegEncode,
    png,
    pngDecode,
    webpDecode,
    webpEncode,
    avifDecode,
    avifEncode,
    resample,
  },
  argon2,
});
