import { ApiError } from "../errors.ts";
import type { Histogram } from "../imaging/histogram.ts";
import type { PipelineJob, PipelineOutput } from "../imaging/pipeline.ts";
import type { HistogramJob, ImageTask, TaskResult } from "../imaging/tasks.ts";

/**
 * Runs image tasks (pipelines, analyses) somewhere other than the caller's event loop (a pool of workers under Bun), or
 * inline where the runtime isolates each request anyway (edge). Rejects with an ApiError.
 */
export interface ImageProcessor {
  run(task: ImageTask): Promise<TaskResult>;
  /** Jobs waiting and running, for tests and metrics. */
  stats(): { queued: number; running: number; completed: number };
  close(): Promise<void>;
}

/**
 * The ApiError for a pipeline that failed: a PipelineError (`refusal`) is the request's fault,
 * anything else the image's (a codec that cannot read it); both are 422s, in their own words.
 */
export function pipelineFailure(refusal: boolean, message: string): ApiError {
  return refusal
    ? new ApiError("validation_failed", message)
    : new ApiError("unprocessable_image", `The image could not be processed: ${message}`);
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

/** Computes a histogram on a processor. */
export async function computeHistogram(
  processor: ImageProcessor,
  job: HistogramJob,
): Promise<Histogram> {
  const result = await processor.run({ kind: "histogram", job });
  if (result.kind !== "histogram") throw new Error("a histogram task answered with another kind");
  return result.histogram;
}
