import type { Codecs, DecodableFormat } from "./codecs.ts";
import { type ColourSpace, type Histogram, histogramRgba } from "./histogram.ts";
import { PipelineError, type PipelineJob, type PipelineOutput, runPipeline } from "./pipeline.ts";

export type HistogramJob = {
  bytes: Uint8Array;
  format: DecodableFormat;
  space: ColourSpace;
  bins: number;
  maxPixels: number;
};

/** Everything the image workers do, as plain data that can cross a thread or a queue. */
export type ImageTask =
  | { kind: "pipeline"; job: PipelineJob }
  | { kind: "histogram"; job: HistogramJob };

export type TaskResult =
  | { kind: "pipeline"; output: PipelineOutput }
  | { kind: "histogram"; histogram: Histogram };

/**
 * Runs one task with the given codecs. Orientation does not change which pixels there are, so a
 * histogram is computed on the image as stored.
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
      const img = await codecs.decode(task.job.bytes, task.job.format);
      if (img.width * img.height > task.job.maxPixels) {
        throw new PipelineError(
          `The image has more than ${task.job.maxPixels} pixels (MAX_PIXELS)`,
        );
      }
      return { kind: "histogram", histogram: histogramRgba(img, task.job.space, task.job.bins) };
    }
  }
}
