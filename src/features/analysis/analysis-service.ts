import type postgres from "postgres";
import type { Limits } from "../../config/config.ts";
import type { ColourSpace, Histogram } from "../../core/analysis/histogram.ts";
import { type ChartScale, chartSvg, histogramChart } from "../../core/analysis/histogram-chart.ts";
import type { Palette } from "../../core/analysis/palette.ts";
import { canonicalJson, sha256Hex } from "../../core/lib/encoding.ts";
import { createSingleFlight } from "../../core/lib/single-flight.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql } from "../../platform/database.ts";
import {
  computeHistogram,
  computePalette,
  type ImageProcessor,
  renderChartPng,
} from "../../platform/image-processor.ts";
import type { Principal } from "../accounts/index.ts";
import type { ImageRecord, ImageService } from "../images/index.ts";
import type { SegmentationService } from "../segmentations/index.ts";

export type AnalysisService = ReturnType<typeof createAnalysisService>;

/** Analyses of stored images, each computed once per (image, parameters) and kept in Postgres. */
export function createAnalysisService(deps: {
  sql: Sql;
  images: ImageService;
  segmentations: SegmentationService;
  processor: ImageProcessor;
  limits: Limits;
}) {
  const { sql, images, segmentations, processor, limits } = deps;
  const share = createSingleFlight();

  /**
   * The cached result of `kind` with `params` on `image`, or `compute`d once and cached, counted
   * against the image owner's bytes quota (413 past it); concurrent misses of one entry share one
   * computation.
   */
  async function cached<T>(
    image: Pick<ImageRecord, "id" | "owner_id">,
    kind: string,
    params: object,
    compute: () => Promise<T>,
    segmentationId: string | null = null,
  ) {
    const key = canonicalJson(params);
    const [hit] = await sql<{ result: T }[]>`
      SELECT result FROM analysis_cache WHERE image_id = ${image.id} AND kind = ${kind} AND params = ${key}`;
    if (hit) return { result: hit.result, cached: true };
    await images.ensureRoom(image.owner_id);
    const result = await share(`${image.id}:${kind}:${key}`, async () => {
      const computed = await compute();
      await sql.begin(async (tx) => {
        // Cached only while the image (and the segmentation) exist: locked against their deletes
        // (which lock the image FOR NO KEY UPDATE), so a delete in between leaves nothing behind.
        const [alive] = await tx`
          SELECT 1 FROM images WHERE id = ${image.id} FOR SHARE`;
        if (!alive) return;
        if (segmentationId) {
          const [segmented] = await tx`
            SELECT 1 FROM segmentations WHERE id = ${segmentationId} FOR KEY SHARE`;
          if (!segmented) return;
        }
        const [inserted] = await tx<{ byte_size: string }[]>`
          INSERT INTO analysis_cache (image_id, kind, params, result, segmentation_id, owner_id)
          VALUES (${image.id}, ${kind}, ${key}, ${tx.json(computed as postgres.JSONValue)}, ${segmentationId},
                  ${image.owner_id})
          ON CONFLICT DO NOTHING RETURNING byte_size`;
        if (inserted) await images.quota.check(tx, image.owner_id, Number(inserted.byte_size));
      });
      return computed;
    });
    return { result, cached: false };
  }

  return {
    /**
     * The histogram of image `id`; with `mask`, of the foreground of that segmentation of the
     * image only, or with `region` too, of that one region.
     */
    async histogram(
      principal: Principal,
      id: string,
      params: {
        space: ColourSpace;
        bins: number;
        mask?: string | undefined;
        region?: number | undefined;
      },
    ) {
      const record = await images.get(principal, id);
      if (params.region !== undefined && params.mask === undefined) {
        throw new ApiError("validation_failed", "Expected a mask (a segmentation id) with region", {
          errors: [{ path: "query.region", message: "region needs mask" }],
        });
      }
      const seg = params.mask ? await segmentations.stored(principal, params.mask) : null;
      if (seg && seg.record.image_id !== id) {
        throw new ApiError(
          "validation_failed",
          `Segmentation ${params.mask} is not of image ${id}`,
          {
            errors: [{ path: "query.mask", message: "Expected a segmentation of this image" }],
          },
        );
      }
      if (seg && params.region !== undefined && params.region > seg.record.region_count) {
        throw new ApiError(
          "validation_failed",
          `Expected a region between 1 and ${seg.record.region_count} but received ${params.region}`,
          { errors: [{ path: "query.region", message: "No such region" }] },
        );
      }
      return cached<Histogram>(
        record,
        "histogram",
        params,
        () =>
          processor.admit({ owner: principal.userId, bytes: record.byte_size }, async () =>
            computeHistogram(processor, {
              bytes: await images.readBytes(record),
              format: record.format,
              space: params.space,
              bins: params.bins,
              maxPixels: limits.maxPixels,
              mask: seg ? { ...seg.stored, region: params.region } : undefined,
            }),
          ),
        seg ? seg.record.id : null,
      );
    },

    /** The `colors` dominant colours of image `id` with their shares, largest first. */
    async palette(principal: Principal, id: string, params: { colors: number }) {
      const record = await images.get(principal, id);
      return cached<Palette>(record, "palette", params, () =>
        processor.admit({ owner: principal.userId, bytes: record.byte_size }, async () =>
          computePalette(processor, {
            bytes: await images.readBytes(record),
            format: record.format,
            colors: params.colors,
            maxPixels: limits.maxPixels,
          }),
        ),
      );
    },

    /**
     * A histogram drawn as a chart: SVG text, or PNG rasterised off the event loop, in
     * `principal`'s turn. The ETag is the digest of the bytes, which depend only on the histogram.
     */
    async drawHistogram(
      principal: Principal,
      histogram: Histogram,
      format: "svg" | "png",
      scale: ChartScale = "linear",
    ) {
      const bytes =
        format === "svg"
          ? new TextEncoder().encode(chartSvg(histogramChart(histogram, { scale })))
          : await processor.admit({ owner: principal.userId, bytes: 0 }, () =>
              renderChartPng(processor, { histogram, scale }),
            );
      return {
        bytes,
        mediaType: format === "svg" ? "image/svg+xml" : "image/png",
        etag: `"${await sha256Hex(bytes)}"`,
      };
    },
  };
}
