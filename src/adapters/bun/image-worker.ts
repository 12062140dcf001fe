// A worker thread of the pool: its codecs are initialised once and reused for every task.
import { createCodecs } from "../../core/formats/codecs.ts";
import {
  describeFailure,
  type ImageTask,
  runTask,
  type TaskFailure,
  type TaskResult,
} from "../../core/pipeline/tasks.ts";
import { loadLocalWasm } from "./wasm.ts";

declare const self: Worker;

export type WorkerRequest = { id: number; task: ImageTask };
export type WorkerReply =
  | { ready: true; ms: number }
  | { id: number; ok: true; result: TaskResult }
  | { id: number; ok: false; failure: TaskFailure; fatal: boolean };

const codecs = createCodecs(loadLocalWasm);
const started = performance.now();
// Every codec is compiled before the pool reports this worker ready (and before its first task).
const warm = codecs.warm().then(() => {
  self.postMessage({ ready: true, ms: performance.now() - started } satisfies WorkerReply);
});

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, task } = event.data;
  try {
    await warm;
    const result = await runTask(codecs, task);
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
    // Each job leaves tens of MB of decoded rasters behind, held outside the JS heap, which
    // JavaScriptCore does not count towards a collection: measured, RSS grew 10 MB per 12 MP
    // thumbnail without this and stayed flat at ~310 MB with it, at no measurable cost per job.
    Bun.gc(true);
  }
};
