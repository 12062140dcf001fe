import { postgresBlobs } from "../../adapters/postgres/blob-store.ts";
import type { Limits } from "../../config/config.ts";
import { canonicalJson, sha256Hex } from "../../core/lib/encoding.ts";
import { createSingleFlight } from "../../core/lib/single-flight.ts";
import type { EncodableFormat } from "../../core/pipeline/pipeline.ts";
import type { OutputFormat, PipelineSpec } from "../../core/pipeline/pipeline-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql } from "../../platform/database.ts";
import { type ImageProcessor, processPipeline } from "../../platform/image-processor.ts";
import type { Principal } from "../accounts/index.ts";
import type { ImageRecord, ImageService } from "../images/index.ts";

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

export type TransformService = ReturnType<typeof createTransformService>;

/** Use cases that run pipelines: derived images (transform) and cached renderings (render). */
export function createTransformService(deps: {
  sql: Sql;
  images: ImageService;
  processor: ImageProcessor;
  limits: Limits;
}) {
  const { sql, images, processor, limits } = deps;
  const share = createSingleFlight();

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
      await images.quota.ensureRoom(sql, source.owner_id);
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
      const source = await images.get(principal, id);
      const resolved = { ...spec, format: chooseFormat(spec.format, source.format, accept) };
      const key = await sha256Hex(
        new TextEncoder().encode(`${source.sha256}:${canonicalJson(resolved)}`),
      );
      const fromCache = async (): Promise<Rendering | null> => {
        const [hit] = await sql<
          {
            format: EncodableFormat;
            width: number;
            height: number;
            sha256: string;
            byte_size: string;
          }[]
        >`
          SELECT c.format, c.width, c.height, c.sha256, b.byte_size
          FROM render_cache c JOIN blobs b USING (sha256)
          WHERE c.image_id = ${id} AND c.cache_key = ${key}`;
        const body = hit ? await postgresBlobs.stream(sql, hit.sha256) : null;
        return hit && body ? { ...hit, byteSize: Number(hit.byte_size), cached: true, body } : null;
      };
      const hit = await fromCache();
      if (hit) return hit;
      // A cached rendering counts against the image owner's quota: no room, no work.
      await images.quota.ensureRoom(sql, source.owner_id);
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
        await sql.begin(async (tx) => {
          // The source may have been deleted meanwhile: then there is nothing to cache against, and
          // the key-share lock keeps it from going before this transaction commits.
          const [alive] = await tx`SELECT 1 FROM images WHERE id = ${id} FOR KEY SHARE`;
          if (!alive) return;
          await postgresBlobs.put(tx, sha256, output.bytes);
          const [inserted] = await tx`
            INSERT INTO render_cache (image_id, cache_key, format, width, height, sha256, owner_id, byte_size)
            VALUES (${id}, ${key}, ${resolved.format}, ${output.width}, ${output.height}, ${sha256},
                    ${source.owner_id}, ${output.bytes.length})
            ON CONFLICT DO NOTHING RETURNING 1`;
          if (inserted) await images.quota.check(tx, source.owner_id, output.bytes.length);
        });
        return {
          format: resolved.format,
          width: output.width,
          height: output.height,
          sha256,
          byteSize: output.bytes.length,
          cached: false,
          body: output.bytes,
        };
      });
      const rendering = made ?? (await fromCache());
      if (!rendering) throw new ApiError("not_found", `No image with id ${id}`);
      return rendering;
    },
  };
}
