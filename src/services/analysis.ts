import type postgres from "postgres";
import type { Limits } from "../config.ts";
import type { Sql } from "../db/database.ts";
import { canonicalJson } from "../encoding.ts";
import type { ColourSpace, Histogram } from "../imaging/histogram.ts";
import type { ImageService } from "./images.ts";
import { computeHistogram, type ImageProcessor } from "./processor.ts";

export type AnalysisService = ReturnType<typeof createAnalysisService>;

/** Analyses of stored images, each computed once per (image, parameters) and kept in Postgres. */
export function createAnalysisService(deps: {
  sql: Sql;
  images: ImageService;
  processor: ImageProcessor;
  limits: Limits;
}) {
  const { sql, images, processor, limits } = deps;

  /** The cached result of `kind` with `params` on image `id`, or `compute`d once and cached. */
  async function cached<T>(id: string, kind: string, params: object, compute: () => Promise<T>) {
    const key = canonicalJson(params);
    const [hit] = await sql<{ result: T }[]>`
      SELECT result FROM analysis_cache WHERE image_id = ${id} AND kind = ${kind} AND params = ${key}`;
    if (hit) return { result: hit.result, cached: true };
    const result = await compute();
    // Cached only while the image exists; a delete in between leaves nothing behind.
    await sql`
      INSERT INTO analysis_cache (image_id, kind, params, result)
      SELECT ${id}, ${kind}, ${key}, ${sql.json(result as postgres.JSONValue)}
      WHERE EXISTS (SELECT 1 FROM images WHERE id = ${id})
      ON CONFLICT DO NOTHING`;
    return { result, cached: false };
  }

  return {
    async histogram(id: string, params: { space: ColourSpace; bins: number }) {
      const record = await images.get(id);
      return cached<Histogram>(id, "histogram", params, async () =>
        computeHistogram(processor, {
          bytes: await images.readBytes(record),
          format: record.format,
          ...params,
          maxPixels: limits.maxPixels,
        }),
      );
    },
  };
}
