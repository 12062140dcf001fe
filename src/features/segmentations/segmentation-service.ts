import type postgres from "postgres";
import type { Limits } from "../../config/config.ts";
import { type Page, pageOf } from "../../core/lib/paging.ts";
import { uuidv7 } from "../../core/lib/uuid.ts";
import type { MaskFormat, MaskKind, StoredLabels } from "../../core/segmentation/mask-render.ts";
import type { Region, SegmentOutput } from "../../core/segmentation/segment.ts";
import type { SegmentationSpec } from "../../core/segmentation/segmentation-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import {
  computeMask,
  computeSegmentation,
  type ImageProcessor,
} from "../../platform/image-processor.ts";
import type { Principal } from "../accounts/index.ts";
import { visibleTo } from "../accounts/index.ts";
import type { ImageRecord, ImageService } from "../images/index.ts";

export type SegmentationRecord = {
  id: string;
  image_id: string;
  method: SegmentationSpec["method"];
  params: SegmentationSpec;
  thresholds: number[];
  width: number;
  height: number;
  region_count: number;
  regions: Region[];
  created_at: string;
};

type Row = Omit<SegmentationRecord, "created_at"> & { created_at: Date };

const COLUMNS =
  "id, image_id, method, params, thresholds, width, height, region_count, regions, created_at";

const toRecord = (r: Row): SegmentationRecord => ({ ...r, created_at: r.created_at.toISOString() });

export type SegmentationService = ReturnType<typeof createSegmentationService>;

/** Segmentations of stored images: computed by the workers once, stored with their label map. */
export function createSegmentationService(deps: {
  sql: Sql;
  images: ImageService;
  processor: ImageProcessor;
  limits: Limits;
}) {
  const { sql, images, processor, limits } = deps;

  async function select(principal: Principal, id: string, withLabels: boolean) {
    const [row] = await sql<(Row & { labels?: Uint8Array })[]>`
      SELECT ${sql.unsafe(COLUMNS)} ${withLabels ? sql`, labels` : sql``} FROM segmentations
      WHERE id = ${id} AND ${visibleTo(sql, principal)}`;
    if (!row) throw new ApiError("not_found", `No segmentation with id ${id}`);
    return row;
  }

  /** Segmentation `id` when `principal` may see it (it belongs to its image's owner); else 404. */
  async function get(principal: Principal, id: string): Promise<SegmentationRecord> {
    return toRecord(await select(principal, id, false));
  }

  /** The segmentation with its stored (compressed) label map. */
  async function stored(
    principal: Principal,
    id: string,
  ): Promise<{ record: SegmentationRecord; stored: StoredLabels }> {
    const { labels, ...row } = await select(principal, id, true);
    const record = toRecord(row);
    const { width, height, region_count: count } = record;
    return { record, stored: { labels: labels as Uint8Array, width, height, count } };
  }

  /** Segments image `imageId` in the workers; stores nothing. */
  async function compute(principal: Principal, imageId: string, spec: SegmentationSpec) {
    const image = await images.get(principal, imageId);
    // Its label map counts against the image owner's quota: no room, no work.
    await images.ensureRoom(image.owner_id);
    const out = await processor.admit(
      { owner: principal.userId, bytes: image.byte_size },
      async () =>
        computeSegmentation(processor, {
          bytes: await images.readBytes(image),
          format: image.format,
          spec,
          maxPixels: limits.maxPixels,
        }),
    );
    return { image, out };
  }

  /**
   * Stores a computed segmentation of `image`, owned by the image's owner: on its own, or inside
   * `tx` (a job item's result is written in the transaction that marks the item succeeded).
   * 404 when the image was deleted while the segmentation was computed; 413 past the owner's
   * bytes quota.
   */
  async function store(
    image: Pick<ImageRecord, "id" | "owner_id">,
    spec: SegmentationSpec,
    out: SegmentOutput,
    tx?: Transaction,
  ): Promise<SegmentationRecord> {
    if (!tx) return sql.begin((own) => store(image, spec, out, own));
    await images.hold(tx, image.id);
    const json = (v: unknown) => tx.json(v as postgres.JSONValue);
    const [row] = await tx<(Row & { byte_size: string })[]>`
      INSERT INTO segmentations (id, image_id, owner_id, method, params, thresholds, width, height, region_count, regions, labels)
      VALUES (${uuidv7()}, ${image.id}, ${image.owner_id}, ${spec.method}, ${json(spec)}, ${json(out.thresholds)}, ${out.width},
             ${out.height}, ${out.count}, ${json(out.regions)}, ${out.labels})
      RETURNING ${tx.unsafe(COLUMNS)}, byte_size`;
    const { byte_size, ...record } = row as Row & { byte_size: string };
    await images.quota.check(tx, image.owner_id, Number(byte_size));
    return toRecord(record);
  }

  return {
    get,
    stored,

    async create(
      principal: Principal,
      imageId: string,
      spec: SegmentationSpec,
    ): Promise<SegmentationRecord> {
      const { image, out } = await compute(principal, imageId, spec);
      return store(image, spec, out);
    },

    compute,
    store,

    async listForImage(
      principal: Principal,
      imageId: string,
      options: { limit: number; cursor?: string | undefined },
    ): Promise<Page<SegmentationRecord>> {
      await images.get(principal, imageId);
      const rows = await sql<Row[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM segmentations
        WHERE image_id = ${imageId} ${options.cursor ? sql`AND id < ${options.cursor}` : sql``}
        ORDER BY id DESC LIMIT ${options.limit + 1}`;
      return pageOf(rows, options.limit, toRecord);
    },

    /** A picture of the segmentation, or its COCO RLE, rendered by the workers. */
    async mask(
      principal: Principal,
      id: string,
      options: { kind: MaskKind; format?: MaskFormat | undefined; region?: number | undefined },
    ) {
      const { record, stored: labels } = await stored(principal, id);
      const picture = options.kind === "overlay" || options.kind === "cutout";
      if (options.format === "webp" && !picture) {
        const detail = `Expected png or rle for format with kind=${options.kind} (WebP is for overlay and cutout) but received webp`;
        throw new ApiError("validation_failed", detail, {
          errors: [{ path: "query.format", message: detail }],
        });
      }
      if (options.region !== undefined && options.region > record.region_count) {
        const detail = `Expected a region between 1 and ${record.region_count} but received ${options.region}`;
        throw new ApiError("validation_failed", detail, {
          errors: [{ path: "query.region", message: detail }],
        });
      }
      const image =
        picture && options.format !== "rle" ? await images.get(principal, record.image_id) : null;
      // Unless asked, a picture of a lossless original stays lossless; of a photo (JPEG, WebP,
      // AVIF) it is a WebP, smaller than the photo, where a PNG would be several times larger.
      const format = options.format ?? (image && image.format !== "png" ? "webp" : "png");
      return processor.admit({ owner: principal.userId, bytes: image?.byte_size ?? 0 }, async () =>
        computeMask(processor, {
          ...labels,
          ...options,
          format,
          image: image ? { bytes: await images.readBytes(image), format: image.format } : undefined,
        }),
      );
    },

    async remove(principal: Principal, id: string): Promise<void> {
      const rows = await sql`
        DELETE FROM segmentations WHERE id = ${id} AND ${visibleTo(sql, principal)} RETURNING id`;
      if (rows.length === 0) throw new ApiError("not_found", `No segmentation with id ${id}`);
    },
  };
}
