import { ApiError } from "../errors.ts";
import type { PipelineJob, PipelineOutput } from "../imaging/pipeline.ts";

/**
 * Runs pipelines somewhere other than the caller's event loop (a pool of workers under Bun), or
 * inline where the runtime isolates each request anyway (edge). Rejects with an ApiError.
 */
export interface ImageProcessor {
  process(job: PipelineJob): Promise<PipelineOutput>;
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
