import type { Codecs } from "../core/formats/codecs.ts";
import { describeFailure, runTask } from "../core/pipeline/tasks.ts";
import { unlimitedAdmission } from "./admission.ts";
import { type ImageProcessor, pipelineFailure } from "./image-processor.ts";
import type { Logger } from "./logger.ts";

/**
 * Runs pipelines on the calling thread: for edge runtimes, where each request has an isolate of
 * its own and there are no worker threads. Never use it in a long-lived HTTP server.
 */
export function createInlineProcessor(codecs: Codecs, logger: Logger): ImageProcessor {
  let running = 0;
  let completed = 0;
  return {
    async run(task) {
      running++;
      try {
        return await runTask(codecs, task);
      } catch (err) {
        throw pipelineFailure(describeFailure(err), logger);
      } finally {
        running--;
        completed++;
      }
    },
    // Each request has an isolate of its own: there is no line to wait in.
    admit: unlimitedAdmission.run,
    stats: () => ({ queued: 0, running, completed, admission: unlimitedAdmission.stats() }),
    async close() {},
  };
}
