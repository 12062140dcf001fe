// A worker thread of the pool: its codecs are initialised once and reused for every task.
import { createCodecs } from "../../core/formats/codecs.ts";
import { probeImageHeader } from "../../core/formats/probe.ts";
import {
  describeFailure,
  type ImageTask,
  runTask,
  type TaskFailure,
  type TaskResult,
} from "../../core/pipeline/tasks.ts";
import { warmUpPipelines } from "../../core/pipeline/warm-up.ts";
import { loadLocalWasm } from "./wasm.ts";

declare const self: Worker;

export type WorkerRequest = { id: number; task: ImageTask };
export type WorkerReply =
  | { ready: "common" | "all"; ms: number }
  | { id: number; ok: true; result: TaskResult }
  | { id: number; ok: false; failure: TaskFailure; fatal: boolean };

const codecs = createCodecs(loadLocalWasm);
const started = performance.now();
// The codecs most renders use are compiled, and the common renders run once (warmUpPipelines:
// the engine's tiering, and the encoders' costly first calls), before this worker takes a task;
// the rest (AVIF, MozJPEG: most of the compilation time) compile meanwhile, and the pool reports
// ready once they have too. A worker that replaces a timed-out one so takes tasks again within
// the common codecs' compilation and warm-up, not all of it.
const warm = codecs
  .warm(["jpeg", "webpDecode", "pngDecode", "png", "webpEncode", "resample"])
  .then(() => warmUpPipelines(codecs))
  .then(() => {
    self.postMessage({ ready: "common", ms: performance.now() - started } satisfies WorkerReply);
  });
void Promise.all([warm, codecs.warm()]).then(() => {
  self.postMessage({ ready: "all", ms: performance.now() - started } satisfies WorkerReply);
});

// Each job leaves its decoded rasters and its copy of the file behind, held outside the JS heap,
// which JavaScriptCore does not count towards a collection: measured, RSS grew 10 MB per 12 MP
// thumbnail without a forced collection and stayed flat at ~310 MB with one after every job. A
// full collection costs 10–40 ms, though (measured on 9 MP thumbnails of ~100 ms), so it runs
// once the jobs since the last one have left this much behind: RSS stays bounded, and most jobs
// pay nothing.
const GC_EVERY_BYTES = 192 * 1024 * 1024;
let bytesSinceGc = 0;

/**
 * What a task left behind: its copy of the file and the RGBA it decoded. A pipeline reports the
 * pixels it decoded (a thumbnail shrunk on load decodes a sixty-fourth of a JPEG's); other tasks
 * decode the whole image (or failed: counted as if).
 */
function leftBehind(task: ImageTask, result: TaskResult | undefined): number {
  if (!("bytes" in task.job)) return 0;
  if (result?.kind === "pipeline") return task.job.bytes.length + 4 * result.decodedPixels;
  const header = probeImageHeader(task.job.bytes);
  return task.job.bytes.length + (header.kind === "ok" ? 4 * header.width * header.height : 0);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, task } = event.data;
  let result: TaskResult | undefined;
  try {
    await warm;
    result = await runTask(codecs, task);
    const transfer =
      result.kind === "pipeline"
        ? [result.output.bytes.buffer as ArrayBuffer]
        : result.kind === "segment"
          ? [result.segmentation.labels.buffer as ArrayBuffer]
          : [];
    self.postMessage({ id, ok: true, result } satisfies WorkerReply, transfer);
  } catch (err) {
    self.postMessage({
      id,
      ok: false,
      failure: describeFailure(err),
      // An Emscripten codec that called exit() is dead for every later image: replace the worker.
      fatal: err instanceof Error && err.name === "ExitStatus",
    } satisfies WorkerReply);
  } finally {
    bytesSinceGc += leftBehind(task, result);
    if (bytesSinceGc >= GC_EVERY_BYTES) {
      bytesSinceGc = 0;
      Bun.gc(true);
    }
  }
};
