import { type ColourSpace, type Histogram, histogramRgba } from "../analysis/histogram.ts";
import { type ChartScale, chartRgba, histogramChart } from "../analysis/histogram-chart.ts";
import { type Palette, paletteRgba } from "../analysis/palette.ts";
import {
  type Codecs,
  type DecodableFormat,
  ImageDataError,
  UnsupportedImageError,
} from "../formats/codecs.ts";
import {
  inflateLabels,
  type MaskJob,
  type MaskOutput,
  renderMask,
  type StoredLabels,
} from "../segmentation/mask-render.ts";
import {
  decodeUpright,
  runSegmentation,
  type SegmentJob,
  type SegmentOutput,
} from "../segmentation/segment.ts";
import { PipelineError, type PipelineJob, type PipelineOutput, runPipeline } from "./pipeline.ts";

export type HistogramJob = {
  bytes: Uint8Array;
  format: DecodableFormat;
  space: ColourSpace;
  bins: number;
  maxPixels: number;
  /** Count only the pixels of this segmentation's foreground, or of one of its regions. */
  mask?: (StoredLabels & { region?: number | undefined }) | undefined;
};

export type PaletteJob = {
  bytes: Uint8Array;
  format: DecodableFormat;
  colors: number;
  maxPixels: number;
};

/** A histogram's chart, rasterised and encoded as PNG. */
export type ChartJob = { histogram: Histogram; scale?: ChartScale | undefined };

/** An upload to decode once, cheaply, so that what no operation could decode is never stored. */
export type ValidateJob = { bytes: Uint8Array; format: DecodableFormat; maxPixels: number };

/** Everything the image workers do, as plain data that can cross a thread or a queue. */
export type ImageTask =
  | { kind: "pipeline"; job: PipelineJob }
  | { kind: "histogram"; job: HistogramJob }
  | { kind: "segment"; job: SegmentJob }
  | { kind: "mask"; job: MaskJob }
  | { kind: "palette"; job: PaletteJob }
  | { kind: "chart"; job: ChartJob }
  | { kind: "validate"; job: ValidateJob };

export type TaskResult =
  | { kind: "pipeline"; output: PipelineOutput; decodedPixels: number }
  | { kind: "histogram"; histogram: Histogram }
  | { kind: "segment"; segmentation: SegmentOutput }
  | { kind: "mask"; mask: MaskOutput }
  | { kind: "palette"; palette: Palette }
  | { kind: "chart"; png: Uint8Array }
  | { kind: "validate" };

/**
 * Why a task failed, in words that may be shown: `request` (a parameter at fault, `path` naming
 * it), `image` (the image cannot be decoded, or is over a limit), or `internal` (anything else:
 * `message` is for the log only, never for a response).
 */
export type TaskFailure = {
  kind: "request" | "image" | "internal";
  message: string;
  path?: string | undefined;
  /** The codec's own message behind an `image` failure, for the log. */
  cause?: string | undefined;
};

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Classifies a task's error as plain data (it crosses a thread).
 *
 * @example
 * describeFailure(new PipelineError("Expected …", "operations.0")); // { kind: "request", … }
 */
export function describeFailure(err: unknown): TaskFailure {
  if (err instanceof PipelineError)
    return { kind: "request", message: err.message, path: err.path };
  if (err instanceof ImageDataError || err instanceof UnsupportedImageError) {
    return {
      kind: "image",
      message: err.message,
      cause: err.cause === undefined ? undefined : messageOf(err.cause),
    };
  }
  return { kind: "internal", message: messageOf(err) };
}

/**
 * Runs one task with the given codecs.
 *
 * @example
 * await runTask(codecs, { kind: "histogram", job: { bytes, format: "png", space: "rgb", bins: 64, maxPixels } });
 */
export async function runTask(codecs: Codecs, task: ImageTask): Promise<TaskResult> {
  switch (task.kind) {
    case "pipeline": {
      const { timings: _, decodedPixels, ...output } = await runPipeline(codecs, task.job);
      return { kind: "pipeline", output, decodedPixels };
    }
    case "histogram": {
      const { job } = task;
      // Masks are in upright coordinates; without one, orientation changes nothing to count.
      const img = job.mask
        ? await decodeUpright(codecs, job.bytes, job.format, job.maxPixels)
        : await codecs.decode(job.bytes, job.format, { maxPixels: job.maxPixels });
      let mask: Uint8Array | undefined;
      if (job.mask) {
        if (job.mask.width !== img.width || job.mask.height !== img.height) {
          throw new PipelineError("The segmentation does not match the image's size");
        }
        const labels = await inflateLabels(job.mask);
        const region = job.mask.region;
        mask = new Uint8Array(labels.length);
        for (let i = 0; i < labels.length; i++) {
          const l = labels[i] as number;
          mask[i] = region === undefined ? (l > 0 ? 1 : 0) : l === region ? 1 : 0;
        }
      }
      return { kind: "histogram", histogram: histogramRgba(img, job.space, job.bins, mask) };
    }
    case "segment":
      return { kind: "segment", segmentation: await runSegmentation(codecs, task.job) };
    case "mask":
      return { kind: "mask", mask: await renderMask(codecs, task.job) };
    case "palette": {
      const { job } = task;
      const img = await codecs.decode(job.bytes, job.format, { maxPixels: job.maxPixels });
      return { kind: "palette", palette: paletteRgba(img, job.colors) };
    }
    case "chart": {
      const img = chartRgba(histogramChart(task.job.histogram, { scale: task.job.scale }));
      return { kind: "chart", png: await codecs.encode(img, { format: "png" }) };
    }
    case "validate": {
      const { job } = task;
      // A JPEG at 1/8 scale still reads every scan and every coefficient (the corruption and
      // scan-count checks), a WebP every macroblock, for 1/64 of the pixels; PNG and AVIF have
      // no reduced decode.
      const scaleDenom = job.format === "jpeg" || job.format === "webp" ? 8 : 1;
      await codecs.decode(job.bytes, job.format, { scaleDenom, maxPixels: job.maxPixels });
      return { kind: "validate" };
    }
  }
}
