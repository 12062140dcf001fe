import type { Limits } from "../../config/config.ts";
import type { MemoryCache } from "../../core/lib/byte-lru.ts";
import { canonicalJson, sha256Hex } from "../../core/lib/encoding.ts";
import { createSingleFlight } from "../../core/lib/single-flight.ts";
import type { EncodableFormat } from "../../core/pipeline/pipeline.ts";
import type { OutputFormat, PipelineSpec } from "../../core/pipeline/pipeline-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { DeferredWork } from "../../platform/deferred-work.ts";
import { type ImageProcessor, processPipeline } from "../../platform/image-processor.ts";
import { type Metrics, noopMetrics } from "../../platform/metrics.ts";
import { isAdmin, type Principal } from "../accounts/index.ts";
import type { ImageRecord, ImageService } from "../images/index.ts";
import type { RenderCache } from "./render-cache.ts";

export type Rendering = {
  format: EncodableFormat;
  width: number;
  height: number;
  sha256: string;
  byteSize: number;
  /** True when served from the render cache, without a worker job. */
  cached: boolean;
  body: ReadableStream<Uint8Array> | Uint8Array;
};

/**
 * `auto` picks the smallest format the client says it takes (AVIF, then WebP, then JPEG); no
 * format keeps the source's.
 */
export function chooseFormat(
  requested: OutputFormat | undefined,
  source: ImageRecord["format"],
  accept: string | undefined,
): EncodableFormat {
  if (requested && requested !== "auto") return requested;
  if (!requested) return source;
  const types = (accept ?? "").toLowerCase();
  if (types.includes("image/avif")) return "avif";
  if (types.includes("image/webp")) return "webp";
  return "jpeg";
}

// Encoder settings: a transform that sets one (or a format, even the source's) re-encodes the
// image without its metadata, which is a change.
const ENCODER_OPTIONS = [
  "quality",
  "progressive",
  "mozjpeg",
  "chromaSubsampling",
  "lossless",
  "speed",
] as const satisfies (keyof PipelineSpec)[];

/**
 * A transform that asks for nothing (no operation, no format, no encoder setting), like `{}` or
 * a body whose only key is misspelled: refused, since it would only spend the owner's quota on a
 * copy.
 */
function isCopy(spec: PipelineSpec) {
  return (
    spec.operations.length === 0 &&
    spec.format === undefined &&
    ENCODER_OPTIONS.every((option) => spec[option] === undefined)
  );
}

export type TransformService = ReturnType<typeof createTransformService>;

/** Use cases that run pipelines: derived images (transform) and cached renderings (render). */
export function createTransformService(deps: {
  cache: RenderCache;
  images: ImageService;
  processor: ImageProcessor;
  limits: Limits;
  /** Renderings kept in memory, answered before Postgres; none when absent. */
  memory?: MemoryCache | undefined;
  metrics?: Metrics;
  /**
   * Where a computed rendering's cache write goes, to finish after the response (~10 ms of a
   * cold render on the embedded database); written before answering when absent.
   */
  deferred?: DeferredWork | undefined;
}) {
  const { cache, images, processor, limits, memory, deferred } = deps;
  const share = createSingleFlight();
  const renders = (deps.metrics ?? noopMetrics).counter({
    name: "pictor_render_cache_lookups_total",
    help: "Renders by how they were served: hit (from memory or the render cache, also when a render in flight stored it) or miss (computed)",
    labelNames: ["result"],
  });

  /** Keeps `rendering` of `source` in memory, its body read whole; returned with that body. */
  async function remember(
    key: string,
    source: ImageRecord,
    rendering: Rendering,
  ): Promise<Rendering> {
    if (!memory?.keeps(rendering.byteSize)) return rendering;
    const body =
      rendering.body instanceof Uint8Array
        ? rendering.body
        : new Uint8Array(await new Response(rendering.body).arrayBuffer());
    const kept = { ...rendering, body };
    memory.set(key, { bytes: body.length, group: source.id, owner: source.owner_id, value: kept });
    return kept;
  }

  /** Runs `spec` on `record` for `principal`, reading the original once admitted. */
  function run(
    principal: Principal,
    record: ImageRecord,
    spec: PipelineSpec & { format: EncodableFormat },
  ) {
    return processor.admit({ owner: principal.userId, bytes: record.byte_size }, async () =>
      processPipeline(processor, {
        bytes: await images.readBytes(record),
        format: record.format,
        spec,
        maxPixels: limits.maxPixels,
      }),
    );
  }

  return {
    /**
     * Runs the pipeline on image `id` and stores the result as a new image derived from it,
     * belonging to the source's owner.
     */
    async transform(
      principal: Principal,
      id: string,
      spec: PipelineSpec,
      accept?: string,
    ): Promise<ImageRecord> {
      const source = await images.get(principal, id);
      const resolved = { ...spec, format: chooseFormat(spec.format, source.format, accept) };
      if (isCopy(spec)) {
        throw new ApiError(
          "validation_failed",
          "Nothing to do: give operations, or a format (the same one re-encodes without metadata)",
          { errors: [{ path: "json.operations", message: "Expected at least one operation" }] },
        );
      }
      // The derived image counts against the owner's quota: no room, no work.
      await images.ensureRoom(source.owner_id);
      const output = await run(principal, source, resolved);
      return images.storeDerived(
        source,
        { ...output, format: resolved.format },
        JSON.parse(canonicalJson(resolved)),
      );
    },

    /**
     * The rendering of image `id` by `spec`: from the cache when this exact pipeline ran before,
     * otherwise run once and cached. Content-addressed, so its ETag is the bytes' SHA-256.
     */
    async render(
      principal: Principal,
      id: string,
      spec: PipelineSpec,
      accept?: string,
    ): Promise<Rendering> {
      // The image's bytes never change under its id, so the id and the query (with the format
      // `auto` picks for this Accept) name a rendering without reading the image's record.
      const auto = spec.format === "auto" ? chooseFormat("auto", "jpeg", accept) : "";
      const memoryKey = `render:${id}:${canonicalJson(spec)}:${auto}`;
      const hot = memory?.get(memoryKey);
      if (hot && (hot.owner === principal.userId || isAdmin(principal))) {
        renders.inc({ result: "hit" });
        return { ...(hot.value as Rendering), cached: true };
      }
      const source = await images.get(principal, id);
      const resolved = { ...spec, format: chooseFormat(spec.format, source.format, accept) };
      const key = await sha256Hex(
        new TextEncoder().encode(`${source.sha256}:${canonicalJson(resolved)}`),
      );
      const fromCache = async (): Promise<Rendering | null> => {
        const hit = await cache.find(id, key);
        return hit ? remember(memoryKey, source, { ...hit, cached: true }) : null;
      };
      const hit = await fromCache();
      if (hit) {
        renders.inc({ result: "hit" });
        return hit;
      }
      // A cached rendering counts against the image owner's quota: no room, no work.
      await cache.ensureRoom(source.owner_id);
      // Identical renders arriving together (a page's many <img>, a retry storm) share one
      // computation; each caller streams the cached bytes of its own when it comes late.
      const made = await share(`${id}:${key}`, async (): Promise<Rendering | null> => {
        // A flight starting just as the previous one stored this rendering finds it here.
        const late = await fromCache();
        if (late) {
          if (late.body instanceof ReadableStream) await late.body.cancel();
          return null;
        }
        const output = await run(principal, source, resolved);
        const sha256 = await sha256Hex(output.bytes);
        const store = () =>
          cache.store(source, key, { ...output, format: resolved.format }, sha256);
        if (deferred) {
          // The quota still refuses what would not fit (the write's own check, in its
          // transaction, decides a race: then the rendering is served but not kept).
          await cache.ensureRoom(source.owner_id, output.bytes.length);
          deferred.defer("render cache write", store);
        } else await store();
        return remember(memoryKey, source, {
          format: resolved.format,
          width: output.width,
          height: output.height,
          sha256,
          byteSize: output.bytes.length,
          cached: false,
          body: output.bytes,
        });
      });
      const rendering = made ?? (await fromCache());
      if (!rendering) throw new ApiError("not_found", `No image with id ${id}`);
      renders.inc({ result: rendering.cached ? "hit" : "miss" });
      return rendering;
    },
  };
}
