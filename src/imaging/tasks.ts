import type { Codecs, DecodableFormat } from "./codecs.ts";
import { type ColourSpace, type Histogram, histogramRgba } from "./histogram.ts";
import { chartRgba, histogramChart } from "./histogram-chart.ts";
import {
  inflateLabels,
  type MaskJob,
  type MaskOutput,
  renderMask,
  type StoredLabels,
} from "./mask-render.ts";
import { type Palette, paletteRgba } from "./palette.ts";
import { PipelineError, type PipelineJob, type PipelineOutput, runPipeline } from "./pipeline.ts";
import { decodeUpright, runSegmentation, type SegmentJob, type SegmentOutput } from "./segment.ts";

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
export type ChartJob = { histogram: Histogram };

/** Everything the image workers do, as plain data that can cross a thread or a queue. */
export type ImageTask =
  | { kind: "pipeline"; job: PipelineJob }
  | { kind: "histogram"; job: HistogramJob }
  | { kind: "segment"; job: SegmentJob }
  | { kind: "mask"; job: MaskJob }
  | { kind: "palette"; job: PaletteJob }
  | { kind: "chart"; job: ChartJob };

export type TaskResult =
  | { kind: "pipeline"; output: PipelineOutput }
  | { kind: "histogram"; histogram: Histogram }
  | { kind: "segment"; segmentation: SegmentOutput }
  | { kind: "mask"; mask: MaskOutput }
  | { kind: "palette"; palette: Palette }
  | { kind: "chart"; png: Uint8Array };

/**
 * Runs one task with the given codecs.
 *
 * @example
 * await runTask(codecs, { kind: "histogram", job: { bytes, format: "png", space: "rgb", bins: 64, maxPixels } });
 */
export async function runTask(codecs: Codecs, task: ImageTask): Promise<TaskResult> {
  switch (task.kind) {
    case "pipeline": {
      const { timings: _, ...output } = await runPipeline(codecs, task.job);
      return { kind: "pipeline", output };
    }
    case "histogram": {
      const { job } = task;
      // Masks are in upright coordinates; without one, orientation changes nothing to count.
      const img = job.mask
        ? await decodeUpright(codecs, job.bytes, job.format)
        : await codecs.decode(job.bytes, job.format);
      if (img.width * img.height > job.maxPixels) {
        throw new PipelineError(`The image has more than ${job.maxPixels} pixels (MAX_PIXELS)`);
      }
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
      const img = await codecs.decode(job.bytes, job.format);
      if (img.width * img.height > job.maxPixels) {
        throw new PipelineError(`The image has more than ${job.maxPixels} pixels (MAX_PIXELS)`);
      }
      return { kind: "palette", palette: paletteRgba(img, job.colors) };
    }
    case "chart": {
      const img = chartRgba(histogramChart(task.job.histogram));
      return { kind: "chart", png: await codecs.encode(img, { format: "png" }) };
    }
  }
}
