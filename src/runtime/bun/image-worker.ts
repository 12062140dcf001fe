// A worker thread of the pool: its codecs are initialised once and reused for every job.
import { createCodecs } from "../../imaging/codecs.ts";
import { PipelineError, type PipelineJob, runPipeline } from "../../imaging/pipeline.ts";
import { loadWasmFromNodeModules } from "./wasm.ts";

declare const self: Worker;

export type WorkerRequest = { id: number; job: PipelineJob };
export type WorkerReply =
  | { id: number; ok: true; output: Awaited<ReturnType<typeof runPipeline>> }
  | { id: number; ok: false; refusal: boolean; message: string };

const codecs = createCodecs(loadWasmFromNodeModules);

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, job } = event.data;
  try {
    const output = await runPipeline(codecs, job);
    self.postMessage({ id, ok: true, output } satisfies WorkerReply, [
      output.bytes.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    self.postMessage({
      id,
      ok: false,
      refusal: err instanceof PipelineError,
      message,
    } satisfies WorkerReply);
  }
};
