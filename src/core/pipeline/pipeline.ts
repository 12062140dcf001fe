import {
  type Codecs,
  type DecodableFormat,
  type EncodeOptions,
  ImageDataError,
} from "../formats/codecs.ts";
import {
  orientationSteps,
  readExifBlock,
  readExifOrientation,
  withOrientation,
} from "../formats/exif.ts";
import { embedExif, MetadataError } from "../formats/metadata.ts";
import { probeImageHeader } from "../formats/probe.ts";
import {
  cropRgba,
  entropyCropOffset,
  flipRgba,
  flopRgba,
  grayscaleRgba,
  rotateRgba,
  rotateRightAngle,
  shrinkFactorsFor,
} from "../imaging/kernels.ts";
import { createRgba, type RgbaImage } from "../imaging/raster.ts";
import {
  plannedSize,
  planResize,
  type ResizePlan,
  shrinkOnLoadFactor,
} from "../imaging/resize-plan.ts";
import type { Operation, PipelineSpec, Position, ResizeOp } from "./pipeline-spec.ts";

export type EncodableFormat = EncodeOptions["format"];

/** A pipeline to run: the spec with its output format already chosen (no "auto"). */
export type PipelineJob = {
  bytes: Uint8Array;
  format: DecodableFormat;
  spec: PipelineSpec & { format: EncodableFormat };
  maxPixels: number;
  /**
   * The most pixels the output may have, when lower than `maxPixels`: an edge isolate can
   * decode a 12 MP photo but not also encode it whole (see src/adapters/edge).
   */
  maxOutputPixels?: number;
};

export type PipelineOutput = {
  bytes: Uint8Array;
  format: EncodableFormat;
  width: number;
  height: number;
};

/**
 * A refusal that names what is wrong with the request for this image (the HTTP layer's 422);
 * `path` names the parameter at fault, relative to the spec (`operations.1`).
 */
export class PipelineError extends Error {
  override readonly name = "PipelineError";
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const DEFAULT_QUALITY: Record<EncodableFormat, number> = { jpeg: 80, png: 100, webp: 80, avif: 50 };

function checkPixels(width: number, height: number, maxPixels: number, what: string, path: string) {
  if (width * height > maxPixels) {
    throw new PipelineError(
      `${what} would be ${width}×${height} = ${width * height} pixels; the limit (MAX_PIXELS) is ${maxPixels}`,
      path,
    );
  }
}

/** The canvas a rotation by `angle` degrees needs (the rotated image's bounding box). */
function rotatedSize(width: number, height: number, angle: number) {
  const rad = (angle * Math.PI) / 180;
  return {
    width: Math.ceil(Math.abs(width * Math.cos(rad)) + Math.abs(height * Math.sin(rad))),
    height: Math.ceil(Math.abs(width * Math.sin(rad)) + Math.abs(height * Math.cos(rad))),
  };
}

/**
 * Walks the operations over sizes only, before any pixel is decoded: refuses a crop outside the
 * image and any step whose result (or, for a resize, the intermediate it resamples to) would pass
 * `maxPixels`, naming the operation at fault. A rotation of 8000×6000 used to compute for 1.3 s
 * before it was refused; now nothing runs. `width`×`height`: the upright source size.
 *
 * @example
 * checkPlannedSizes(8000, 6000, [{ op: "rotate", angle: 45, background }], 50e6); // throws
 */
export function checkPlannedSizes(
  width: number,
  height: number,
  operations: readonly Operation[],
  maxPixels: number,
): { width: number; height: number } {
  let size = { width, height };
  for (const [i, op] of operations.entries()) {
    const path = `operations.${i}`;
    switch (op.op) {
      case "resize": {
        const plan = planResize(size.width, size.height, op);
        const out = plannedSize(plan);
        checkPixels(
          Math.max(plan.width, out.width),
          Math.max(plan.height, out.height),
          maxPixels,
          "The resized image",
          path,
        );
        size = out;
        break;
      }
      case "crop":
        if (op.left + op.width > size.width || op.top + op.height > size.height) {
          throw new PipelineError(
            `Expected the crop box (left ${op.left}, top ${op.top}, ${op.width}×${op.height}) to lie inside the ${size.width}×${size.height} image`,
            path,
          );
        }
        size = { width: op.width, height: op.height };
        break;
      case "rotate": {
        const angle = ((op.angle % 360) + 360) % 360;
        if (angle % 180 === 90) size = { width: size.height, height: size.width };
        else if (angle % 90 !== 0) size = rotatedSize(size.width, size.height, angle);
        checkPixels(size.width, size.height, maxPixels, "The rotated image", path);
        break;
      }
      default:
        break;
    }
  }
  return size;
}

function gravityOffset(
  position: Exclude<Position, "entropy">,
  free: number,
  axis: "x" | "y",
): number {
  const start = axis === "x" ? position.endsWith("west") : position.startsWith("north");
  const end = axis === "x" ? position.endsWith("east") : position.startsWith("south");
  if (start) return 0;
  if (end) return free;
  return Math.floor(free / 2);
}

/** Pastes `img` onto a `width`×`height` canvas of `background`, centred. */
function embedRgba(
  img: RgbaImage,
  width: number,
  height: number,
  background: readonly number[],
): RgbaImage {
  const out = createRgba(width, height);
  const fill = new Uint8ClampedArray(background);
  for (let i = 0; i < out.data.length; i += 4) out.data.set(fill, i);
  const left = Math.floor((width - img.width) / 2);
  const top = Math.floor((height - img.height) / 2);
  for (let y = 0; y < img.height; y++) {
    out.data.set(
      img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4),
      ((top + y) * width + left) * 4,
    );
  }
  return out;
}

/**
 * `preplanned`: the resize planned for the full-size image when `img` was decoded reduced
 * (shrink-on-load), so the output size does not depend on the reduction's rounding.
 */
async function resizeStep(
  codecs: Codecs,
  img: RgbaImage,
  op: ResizeOp,
  preplanned?: ResizePlan,
): Promise<RgbaImage> {
  const plan = preplanned ?? planResize(img.width, img.height, op);
  let out = img;
  if (plan.width !== img.width || plan.height !== img.height) {
    // libvips' thumbnail strategy: a cheap integer box shrink to within 2× of the target, then
    // the real filter over far fewer pixels. Not after shrink-on-load, which leaves less than 2×
    // (or, past 16×, at most 1/64 of the pixels): the box drops the columns and rows that do not
    // fill a block, and on a decoded 225×150 going to 100×67 that shift alone cost 16 dB of PSNR
    // against sharp (31 dB with the box, 47 dB without).
    const [fx, fy] =
      op.kernel === "nearest" || preplanned
        ? [1, 1]
        : shrinkFactorsFor(img.width, img.height, plan.width, plan.height);
    if (fx > 1 || fy > 1) {
      const shrunk = await codecs.shrink(out, fx, fy);
      out = await codecs.resize(shrunk, plan.width, plan.height, op.kernel);
      codecs.recycle(shrunk);
    } else out = await codecs.resize(out, plan.width, plan.height, op.kernel);
  }
  if (plan.crop) {
    const { width, height } = plan.crop;
    const { left, top } =
      op.position === "entropy"
        ? entropyCropOffset(out, width, height)
        : {
            left: gravityOffset(op.position, out.width - width, "x"),
            top: gravityOffset(op.position, out.height - height, "y"),
          };
    out = cropRgba(out, { left, top, width, height });
  }
  if (plan.embed) out = embedRgba(out, plan.embed.width, plan.embed.height, op.background);
  return out;
}

/** One operation; its sizes were checked already (checkPlannedSizes). */
async function apply(
  codecs: Codecs,
  img: RgbaImage,
  op: Operation,
  plan?: ResizePlan,
): Promise<RgbaImage> {
  switch (op.op) {
    case "resize":
      return resizeStep(codecs, img, op, plan);
    case "crop":
      return cropRgba(img, op);
    case "rotate": {
      const angle = ((op.angle % 360) + 360) % 360;
      if (angle === 0) return img;
      if (angle % 90 === 0) return rotateRightAngle(img, angle as 90 | 180 | 270);
      return rotateRgba(img, angle, op.background);
    }
    case "flip":
      return flipRgba(img);
    case "flop":
      return flopRgba(img);
    case "grayscale":
      return grayscaleRgba(img);
  }
}

/** JPEG has no alpha: composite onto black, as libvips does when it drops the channel. */
function flattenForJpeg(img: RgbaImage): RgbaImage {
  const d = img.data;
  let opaque = true;
  for (let i = 3; i < d.length; i += 4) {
    if (d[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return img;
  const out = new Uint8ClampedArray(d.length);
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3] as number;
    out[i] = ((d[i] as number) * a + 127) / 255;
    out[i + 1] = ((d[i + 1] as number) * a + 127) / 255;
    out[i + 2] = ((d[i + 2] as number) * a + 127) / 255;
    out[i + 3] = 255;
  }
  return { data: out, width: img.width, height: img.height };
}

/** The encoded output with the source's EXIF block in it (if it had one). */
function keepExif(encoded: Uint8Array, job: PipelineJob): Uint8Array {
  const tiff = readExifBlock(job.bytes, job.format);
  if (!tiff) return encoded;
  if (job.spec.format === "avif") {
    throw new PipelineError(
      "Expected format jpeg, png or webp with keepMetadata: AVIF output cannot carry it yet",
    );
  }
  try {
    return embedExif(
      encoded,
      job.spec.format,
      job.spec.autoOrient ? withOrientation(tiff, 1) : tiff,
    );
  } catch (err) {
    if (err instanceof MetadataError) throw new PipelineError(err.message);
    throw err;
  }
}

function encodeOptions(spec: PipelineJob["spec"]): EncodeOptions {
  const quality = spec.quality ?? DEFAULT_QUALITY[spec.format];
  switch (spec.format) {
    case "jpeg":
      return {
        format: "jpeg",
        quality,
        progressive: spec.progressive ?? false,
        chromaSubsampling: spec.chromaSubsampling ?? "4:2:0",
        mozjpeg: spec.mozjpeg ?? false,
      };
    case "png":
      return { format: "png" };
    case "webp":
      return { format: "webp", quality, lossless: spec.lossless ?? false };
    case "avif":
      return { format: "avif", quality, speed: spec.speed ?? 8 };
  }
}

/**
 * Shrink-on-load, as sharp and libvips' thumbnail do: when a JPEG's or WebP's first operation is a
 * downscaling resize, the decoder reduces it by 2, 4 or 8 (in the DCT, or as libwebp converts
 * rows: far less work than materialising every pixel and box-shrinking them), and the resize plan
 * is made for the full upright size.
 * Not for `nearest`, whose point is to pick source pixels rather than average them.
 */
function shrinkOnLoad(
  job: PipelineJob,
  width: number,
  height: number,
): { scaleDenom: 1 | 2 | 4 | 8; plan?: ResizePlan } {
  const first = job.spec.operations[0];
  if (
    (job.format !== "jpeg" && job.format !== "webp") ||
    first?.op !== "resize" ||
    first.kernel === "nearest"
  ) {
    return { scaleDenom: 1 };
  }
  const plan = planResize(width, height, first);
  const scaleDenom = shrinkOnLoadFactor(width, height, plan);
  return scaleDenom === 1 ? { scaleDenom } : { scaleDenom, plan };
}

/**
 * Runs a validated pipeline: decode (reduced already when the first operation shrinks a JPEG or
 * WebP),
 * apply the EXIF orientation (unless `autoOrient: false`), each operation in order, encode.
 * Outputs carry no metadata: the encoders write none. Timings of the three stages are reported
 * so that the slowest one is visible, and the pixels decoded (fewer than the image's when it
 * shrank on load or was cropped on decode), which is what the work left behind.
 *
 * @example
 * await runPipeline(codecs, { bytes, format: "jpeg", maxPixels: 50e6,
 *   spec: { operations: [{ op: "flop" }], format: "webp", autoOrient: true } });
 */
export async function runPipeline(
  codecs: Codecs,
  job: PipelineJob,
): Promise<
  PipelineOutput & {
    timings: { decodeMs: number; processMs: number; encodeMs: number };
    decodedPixels: number;
  }
> {
  const t0 = performance.now();
  const header = probeImageHeader(job.bytes);
  if (header.kind !== "ok") throw new ImageDataError("The image's header cannot be read");
  const { rotate, flop } = job.spec.autoOrient
    ? orientationSteps(readExifOrientation(job.bytes, job.format))
    : { rotate: 0 as const, flop: false };
  const [width, height] =
    rotate === 90 || rotate === 270 ? [header.height, header.width] : [header.width, header.height];
  const output = checkPlannedSizes(width, height, job.spec.operations, job.maxPixels);
  if (job.maxOutputPixels !== undefined && output.width * output.height > job.maxOutputPixels) {
    throw new PipelineError(
      `The output would be ${output.width}×${output.height} = ${output.width * output.height} pixels; the limit here is ${job.maxOutputPixels} (resize it smaller)`,
      "operations",
    );
  }
  const { scaleDenom, plan } = shrinkOnLoad(job, width, height);
  // Crop on decode: a JPEG or PNG stored upright whose first operation is a crop decodes only
  // that box (and nothing below it).
  const first = job.spec.operations[0];
  const region =
    (job.format === "jpeg" || job.format === "png") && first?.op === "crop" && !rotate && !flop
      ? first
      : undefined;
  let img = await codecs.decode(job.bytes, job.format, {
    scaleDenom,
    maxPixels: job.maxPixels,
    region,
  });
  const t1 = performance.now();
  const decodedPixels = img.width * img.height;
  // Every raster made on the way, for the codecs' pool once the output is encoded.
  const made = [img];
  if (rotate) img = rotateRightAngle(img, rotate);
  if (flop) img = flopRgba(img);
  made.push(img);
  for (const [i, op] of job.spec.operations.entries()) {
    if (i === 0 && region) continue;
    img = await apply(codecs, img, op, i === 0 ? plan : undefined);
    made.push(img);
  }
  const t2 = performance.now();
  const encoded = await codecs.encode(
    job.spec.format === "jpeg" ? flattenForJpeg(img) : img,
    encodeOptions(job.spec),
  );
  codecs.recycle(...made);
  const bytes = job.spec.keepMetadata ? keepExif(encoded, job) : encoded;
  const t3 = performance.now();
  return {
    bytes,
    format: job.spec.format,
    width: img.width,
    height: img.height,
    timings: { decodeMs: t1 - t0, processMs: t2 - t1, encodeMs: t3 - t2 },
    decodedPixels,
  };
}
