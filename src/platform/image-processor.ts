import type { Histogram } from "../core/analysis/histogram.ts";
import type { Palette } from "../core/analysis/palette.ts";
import type { PipelineJob, PipelineOutput } from "../core/pipeline/pipeline.ts";
import type {
  ChartJob,
  HistogramJob,
  ImageTask,
  PaletteJob,
  TaskFailure,
  TaskResult,
  ValidateJob,
} from "../core/pipeline/tasks.ts";
import type { MaskJob, MaskOutput } from "../core/segmentation/mask-render.ts";
import type { SegmentJob, SegmentOutput } from "../core/segmentation/segment.ts";
import type { AdmissionStats, TaskTicket } from "./admission.ts";
import { ApiError } from "./api-error.ts";
import type { Logger } from "./logger.ts";

/**
 * Runs image tasks (pipelines, analyses) somewhere other than the caller's event loop (a pool of workers under Bun), or
 * inline where the runtime isolates each request anyway (edge). Rejects with an ApiError.
 */
export interface ImageProcessor {
  run(task: ImageTask): Promise<TaskResult>;
  /**
   * Runs `work`, which reads an original and runs tasks here, once this processor admits it
   * (see ImageAdmission): callers read image bytes inside `work`, never before, so a request
   * waiting for a worker holds none.
   */
  admit<T>(ticket: TaskTicket, work: () => Promise<T>): Promise<T>;
  /** Jobs waiting and running, and the admission's line, for tests and metrics. */
  stats(): { queued: number; running: number; completed: number; admission: AdmissionStats };
  close(): Promise<void>;
}

/**
 * The ApiError for a task that failed, logging what must not reach a client: a request at fault
 * is a 422 naming the parameter; an image that cannot be decoded a 422 in plain words (the
 * codec's own message logged); anything else a 422 without details (the error logged).
 */
export function pipelineFailure(failure: TaskFailure, logger: Logger): ApiError {
  switch (failure.kind) {
    case "request":
      return new ApiError(
        "validation_failed",
        failure.message,
        failure.path ? { errors: [{ path: failure.path, message: failure.message }] } : {},
      );
    case "image":
      if (failure.cause) {
        logger.info("image refused by its codec", {
          reason: failure.message,
          error: failure.cause,
        });
      }
      return new ApiError("unprocessable_image", failure.message);
    case "internal":
      logger.error("image task failed", { error: failure.message });
      return new ApiError("unprocessable_image", "The image could not be processed");
  }
}

/** Runs a pipeline on a processor. */
export async function processPipeline(
  processor: ImageProcessor,
  job: PipelineJob,
): Promise<PipelineOutput> {
  const result = await processor.run({ kind: "pipeline", job });
  if (result.kind !== "pipeline") throw new Error("a pipeline task answered with another kind");
  return result.output;
}

/** Runs `task` on a processor; its result is of the same kind. */
export async function runTaskOf<K extends ImageTask["kind"]>(
  processor: ImageProcessor,
  task: Extract<ImageTask, { kind: K }>,
): Promise<Extract<TaskResult, { kind: K }>> {
  const result = await processor.run(task);
  if (result.kind !== task.kind) throw new Error(`a ${task.kind} task answered with another kind`);
  return result as Extract<TaskResult, { kind: K }>;
}

/** Computes a histogram on a processor. */
export async function computeHistogram(
  processor: ImageProcessor,
  job: HistogramJob,
): Promise<Histogram> {
  return (await runTaskOf(processor, { kind: "histogram", job })).histogram;
}

/** Segments an image on a processor. */
export async function computeSegmentation(
  processor: ImageProcessor,
  job: SegmentJob,
): Promise<SegmentOutput> {
  const result = await processor.run({ kind: "segment", job });
  if (result.kind !== "segment") throw new Error("a segment task answered with another kind");
  return result.segmentation;
}

/** Renders a stored segmentation's mask on a processor. */
export async function computeMask(processor: ImageProcessor, job: MaskJob): Promise<MaskOutput> {
  const result = await processor.run({ kind: "mask", job });
  if (result.kind !== "mask") throw new Error("a mask task answered with another kind");
  return result.mask;
}

/** Finds an image's dominant colours on a processor. */
export async function computePalette(processor: ImageProcessor, job: PaletteJob): Promise<Palette> {
  return (await runTaskOf(processor, { kind: "palette", job })).palette;
}

/** Draws a histogram's chart as PNG on a processor. */
export async function renderChartPng(
  processor: ImageProcessor,
  job: ChartJob,
): Promise<Uint8Array> {
  return (await runTaskOf(processor, { kind: "chart", job })).png;
}

/**
 * Decodes an upload once, cheaply (a JPEG at 1/8 scale), on a processor: rejects with a 422 in
 * plain words when no operation could decode it. The bytes are handed over: a processor in
 * another thread takes their buffer (the caller's is detached), so pass a buffer of its own.
 */
export async function validateDecodable(
  processor: ImageProcessor,
  job: ValidateJob,
): Promise<void> {
  await runTaskOf(processor, { kind: "validate", job });
}
