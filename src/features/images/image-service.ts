import type postgres from "postgres";
import type { Limits } from "../../config/config.ts";
import { ImageDataError, pngDataMeter } from "../../core/formats/decode-limits.ts";
import { type Orientation, orientedSize, readExifOrientation } from "../../core/formats/exif.ts";
import {
  checkImageStructure,
  type ImageFormat,
  type ImageHeader,
  type ProbeResult,
  probeImageHeader,
} from "../../core/formats/probe.ts";
import { createByteLru } from "../../core/lib/byte-lru.ts";
import { concatBytes, sharedCopy } from "../../core/lib/bytes.ts";
import { sha256Hex } from "../../core/lib/encoding.ts";
import { type Page, pageOf } from "../../core/lib/paging.ts";
import { uuidv7 } from "../../core/lib/uuid.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { BlobStore } from "../../platform/blob-store.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import { type ImageProcessor, validateDecodable } from "../../platform/image-processor.ts";
import { type Metrics, noopMetrics } from "../../platform/metrics.ts";
import type { BlobBody, ByteRange } from "../../platform/object-store.ts";
import type { Spool, SpoolFile } from "../../platform/spool.ts";
import type { Principal } from "../accounts/index.ts";
import { ownedBy, visibleTo } from "../accounts/index.ts";
import { createQuota } from "./quota.ts";

export type ImageRecord = {
  id: string;
  owner_id: string | null;
  filename: string | null;
  format: ImageFormat;
  /** Display size: the stored size with the EXIF orientation applied. */
  width: number;
  height: number;
  /** EXIF orientation as stored, 1–8 (1 = upright). */
  orientation: Orientation;
  byte_size: number;
  sha256: string;
  /** For a derived image: the image it was made from (null once that is deleted) and how. */
  source_id: string | null;
  pipeline: unknown;
  created_at: string;
};

const COLUMNS = `id, owner_id, filename, format, width, height, orientation, byte_size, sha256, source_id,
  pipeline, created_at`;

export type IncomingFile = { filename: string | undefined; body: AsyncIterable<Uint8Array> };

/** A file of a batch that was not stored, and why: the same ApiError a single upload answers. */
export type RefusedFile = { index: number; filename: string | null; error: ApiError };

export type UploadResult = { images: ImageRecord[]; refused: RefusedFile[] };

/** What a pipeline made: its bytes, or the digest and size of bytes already stored. */
export type DerivedOutput = { format: ImageFormat; width: number; height: number } & (
  | { bytes: Uint8Array }
  | { sha256: string; byteSize: number }
);

type NewImage = {
  ownerId: string | null;
  /** Null: the bytes are stored already under `sha256`. */
  body: BlobBody | null;
  sha256: string;
  byteSize: number;
  filename: string | null;
  format: ImageFormat;
  width: number;
  height: number;
  orientation: Orientation;
  sourceId: string | null;
  pipeline: unknown;
};

// Headers sit in the first bytes, but a JPEG may carry large EXIF/ICC segments before its frame.
const MAX_HEADER_SEARCH = 1024 * 1024;

type Row = Omit<ImageRecord, "byte_size" | "created_at"> & { byte_size: string; created_at: Date };

const toRecord = (r: Row): ImageRecord => ({
  ...r,
  byte_size: Number(r.byte_size),
  created_at: r.created_at.toISOString(),
});

export type ImageService = ReturnType<typeof createImageService>;

/** What a user may still store under MAX_USER_BYTES and MAX_USER_IMAGES. */
type Room = { bytes: number; images: number };

/** What the originals cache of one process holds at most (see readBytes). */
const ORIGINALS_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Use cases over stored images: upload (one or a batch), list, read, delete. Every image belongs
 * to a user; each method is scoped to what its principal may see (admins: everything).
 */
export function createImageService(deps: {
  sql: Sql;
  blobs: BlobStore;
  spool: Spool;
  limits: Limits;
  processor: ImageProcessor;
  /**
   * The blobs that records derived from an image hold and that go with it (the render cache's):
   * read inside the deleting transaction, before the image's cascade takes their rows.
   */
  heldWith?: (tx: Transaction, imageId: string) => Promise<string[]>;
  /** Told once an image's delete committed: what this process keeps of it must go. */
  onRemoved?: (imageId: string) => void;
  /** Originals are downloaded from presigned URLs valid this long, where the store signs them. */
  directDownloads?: { ttlSeconds: number } | undefined;
  metrics?: Metrics;
}) {
  const { sql, blobs, spool, limits, processor } = deps;
  const received = (deps.metrics ?? noopMetrics).counter({
    name: "pictor_upload_bytes_total",
    help: "Bytes of uploaded files received, refused ones included",
    labelNames: [],
  });
  const quota = createQuota(limits);
  // Originals recently read, by content hash (blobs never change, so an entry is never stale):
  // renders of one photo at several sizes, a page's srcset, read it from the database once. A
  // 9 MB original took most of a cold render's time to come out of the embedded database, which
  // answers one query at a time.
  // Its group is the hash itself, never dropped; a quarter of the bound is the largest kept.
  const originals = createByteLru<{ bytes: number; group: string; value: Uint8Array }>(
    ORIGINALS_CACHE_BYTES,
    { largest: ORIGINALS_CACHE_BYTES / 4 },
  );

  function checkHeader(header: ImageHeader): void {
    const pixels = header.width * header.height;
    if (pixels > limits.maxPixels) {
      throw new ApiError(
        "unprocessable_image",
        `Image is ${header.width}×${header.height} = ${pixels} pixels; the limit (MAX_PIXELS) is ${limits.maxPixels}`,
      );
    }
  }

  function refusalOf(probe: Exclude<ProbeResult, { kind: "ok" }>): ApiError {
    switch (probe.kind) {
      case "unsupported":
        return new ApiError(
          "unsupported_media_type",
          "Not a JPEG, PNG, WebP or AVIF file (judged by its content)",
        );
      case "corrupt":
        return new ApiError("unprocessable_image", probe.reason);
      case "need-more":
        return new ApiError(
          "unprocessable_image",
          "File ends inside its image header (truncated?)",
        );
    }
  }

  function countQuotaError(images: number): ApiError {
    return new ApiError(
      "forbidden",
      `You have ${images} images; the quota (MAX_USER_IMAGES) is ${limits.maxUserImages}`,
    );
  }

  /** What `ownerId` may still store under the quotas (checked again inside the transaction). */
  async function room(ownerId: string): Promise<Room> {
    const [row] = await sql<{ bytes: string; images: number }[]>`
      SELECT bytes, images FROM user_usage WHERE user_id = ${ownerId}`;
    return {
      bytes: limits.maxUserBytes - Number(row?.bytes ?? 0),
      images: limits.maxUserImages - (row?.images ?? 0),
    };
  }

  function measure(meter: ReturnType<typeof pngDataMeter>, piece: Uint8Array): void {
    try {
      meter.push(piece);
    } catch (err) {
      if (err instanceof ImageDataError) throw new ApiError("unprocessable_image", err.message);
      throw err;
    }
  }

  /** Streams one file into the spool, refusing it as soon as its bytes or header say no. */
  async function receive(file: IncomingFile, spooled: SpoolFile, left: Room): Promise<ImageHeader> {
    let head = new Uint8Array(0);
    let header: ImageHeader | null = null;
    let size = 0;
    // A PNG's image data is measured as it arrives: a 24 MB stream for a 1×1 image is refused
    // from its first chunk header, not after it was received, spooled and hashed.
    let meter: ReturnType<typeof pngDataMeter> | null = null;
    for await (const chunk of file.body) {
      size += chunk.length;
      received.inc({}, chunk.length);
      if (size > limits.maxUploadBytes) {
        throw new ApiError(
          "payload_too_large",
          `File is larger than ${limits.maxUploadBytes} bytes (MAX_UPLOAD_BYTES)`,
        );
      }
      if (size > left.bytes) throw quota.exceeded(limits.maxUserBytes - left.bytes, size);
      if (!header) {
        head = concatBytes([head, chunk]);
        const probe = probeImageHeader(head);
        if (probe.kind === "ok") {
          header = probe;
          checkHeader(header);
          if (header.format === "png") {
            meter = pngDataMeter(head);
            measure(meter, head);
          }
        } else if (probe.kind !== "need-more") {
          throw refusalOf(probe);
        } else if (head.length > MAX_HEADER_SEARCH) {
          throw new ApiError("unprocessable_image", "No complete image header in the first 1 MiB");
        }
      } else if (meter) {
        measure(meter, chunk);
      }
      await spooled.write(chunk);
    }
    if (size === 0) throw new ApiError("unprocessable_image", "File is empty");
    if (!header) throw refusalOf({ kind: "need-more" });
    return header;
  }

  /**
   * Holds image `id` until commit against a delete (a share lock, which the delete's NO KEY
   * UPDATE waits for, while foreign key checks do not), so that a row referring to it can be
   * written; 404 when it is gone. Its owner owns
   * what is made from it. Taken before blobs and usage: every writer locks image, then blob, then
   * usage, so none waits in a cycle.
   */
  async function hold(tx: Transaction, id: string): Promise<Pick<ImageRecord, "id" | "owner_id">> {
    const [row] = await tx<Pick<ImageRecord, "id" | "owner_id">[]>`
      SELECT id, owner_id FROM images WHERE id = ${id} FOR SHARE`;
    if (!row) throw new ApiError("not_found", `No image with id ${id}`);
    return row;
  }

  /**
   * Writes bytes and record inside `tx`: both land, or neither does. A derived image's source
   * deleted meanwhile makes it a 404. The insert's trigger adds the image to its owner's usage
   * (locking that row until commit, so one user's concurrent uploads take turns); over a quota,
   * it throws and the caller's transaction rolls back. Without `bytes`, they are stored already
   * (a cached rendering) and only held against a concurrent release.
   */
  async function insertImageIn(tx: Transaction, image: NewImage): Promise<ImageRecord> {
    if (image.sourceId) await hold(tx, image.sourceId);
    if (image.body) {
      await blobs.put(tx, image.sha256, image.body);
    } else if (!(await blobs.hold(tx, image.sha256))) {
      throw new Error(`The bytes ${image.sha256} were released before they were stored`);
    }
    const [row] = await tx<Row[]>`
      INSERT INTO images (id, owner_id, filename, format, width, height, orientation, byte_size, sha256, source_id, pipeline)
      VALUES (${uuidv7()}, ${image.ownerId}, ${image.filename}, ${image.format}, ${image.width}, ${image.height}, ${image.orientation},
              ${image.byteSize}, ${image.sha256}, ${image.sourceId},
              ${image.pipeline === null ? null : tx.json(image.pipeline as postgres.JSONValue)})
      RETURNING ${tx.unsafe(COLUMNS)}`;
    if (image.ownerId) {
      await quota.check(tx, image.ownerId, image.byteSize);
      const [usage] = await tx<{ images: number }[]>`
        SELECT images FROM user_usage WHERE user_id = ${image.ownerId}`;
      if ((usage?.images ?? 0) > limits.maxUserImages) throw countQuotaError(limits.maxUserImages);
    }
    return toRecord(row as Row);
  }

  /** insertImageIn, in a transaction of its own. */
  const insertImage = (image: NewImage): Promise<ImageRecord> =>
    sql.begin((tx) => insertImageIn(tx, image));

  async function storeOne(principal: Principal, file: IncomingFile): Promise<ImageRecord> {
    const left = await room(principal.userId);
    if (left.images <= 0) throw countQuotaError(limits.maxUserImages - left.images);
    const spooled = await spool.create();
    try {
      const header = await receive(file, spooled, left);
      const { sha256 } = await spooled.finish();
      const bytes = await spooled.read();
      const broken = checkImageStructure(header.format, bytes);
      if (broken) throw new ApiError("unprocessable_image", broken);
      const orientation = readExifOrientation(bytes, header.format);
      const size = bytes.length;
      // What no operation could decode is refused now, not stored to fail every later request.
      // The bytes go to the image worker (handed over, not copied)…
      await validateDecodable(processor, {
        bytes,
        format: header.format,
        maxPixels: limits.maxPixels,
      });
      const record = await insertImage({
        ownerId: principal.userId,
        // …and to the blob store from the spool again, a piece at a time.
        body: spooled.blob(),
        byteSize: size,
        sha256,
        filename: file.filename ?? null,
        format: header.format,
        orientation,
        ...orientedSize(header.width, header.height, orientation),
        sourceId: null,
        pipeline: null,
      });
      // An upload is usually rendered next (its thumbnails, the web app's preview): keep the
      // original in memory, read once more from the spool, rather than read it back from the
      // blob store for the first render.
      if (originals.keeps(size)) {
        const value = sharedCopy(await spooled.read());
        originals.set(sha256, { bytes: size, group: sha256, value });
      }
      return record;
    } finally {
      await spooled.discard();
    }
  }

  /** Image `id` when `principal` may see it; otherwise 404, whether it exists or not. */
  async function get(principal: Principal, id: string): Promise<ImageRecord> {
    const [row] = await sql<Row[]>`
      SELECT ${sql.unsafe(COLUMNS)} FROM images WHERE id = ${id} AND ${visibleTo(sql, principal)}`;
    if (!row) throw new ApiError("not_found", `No image with id ${id}`);
    return toRecord(row);
  }

  return {
    get,
    hold,
    quota,
    /** 413 before work whose result `ownerId` would store, when their quota has no byte left. */
    ensureRoom: (ownerId: string | null) => quota.ensureRoom(sql, ownerId),

    /**
     * Stores each file of a batch in its own transaction: a refused file leaves nothing behind and
     * does not stop the others. Files past MAX_BATCH_FILES are refused, not stored.
     */
    async upload(principal: Principal, files: AsyncIterable<IncomingFile>): Promise<UploadResult> {
      const result: UploadResult = { images: [], refused: [] };
      let index = 0;
      for await (const file of files) {
        const at = index++;
        try {
          if (at >= limits.maxBatchFiles) {
            throw new ApiError(
              "payload_too_large",
              `A batch holds at most ${limits.maxBatchFiles} files (MAX_BATCH_FILES)`,
            );
          }
          result.images.push(await storeOne(principal, file));
        } catch (err) {
          // Any ApiError refuses this file (a quota found full inside its transaction among
          // them); anything else is a fault, not a refusal.
          if (!(err instanceof ApiError)) throw err;
          result.refused.push({ index: at, filename: file.filename ?? null, error: err });
        }
      }
      return result;
    },

    /** The caller's own images (admins' too: their listing is theirs), newest first. */
    async list(
      principal: Principal,
      options: { limit: number; cursor?: string | undefined },
    ): Promise<Page<ImageRecord>> {
      const rows = await sql<Row[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM images
        WHERE ${ownedBy(sql, principal)} ${options.cursor ? sql`AND id < ${options.cursor}` : sql``}
        ORDER BY id DESC
        LIMIT ${options.limit + 1}`;
      return pageOf(rows, options.limit, toRecord);
    },

    /**
     * Stores the output of a pipeline as a new image derived from `source`, owned (and counted
     * against the quotas of) whoever owns the source: in a transaction of its own, or inside
     * `tx` (a job item's result is written in the transaction that marks the item succeeded).
     * The output is its bytes, or the digest and size of bytes stored already.
     */
    async storeDerived(
      source: Pick<ImageRecord, "id" | "owner_id">,
      output: DerivedOutput,
      pipeline: unknown,
      tx?: Transaction,
    ): Promise<ImageRecord> {
      const stored =
        "bytes" in output
          ? {
              body: output.bytes,
              sha256: await sha256Hex(output.bytes),
              byteSize: output.bytes.length,
            }
          : { body: null, sha256: output.sha256, byteSize: output.byteSize };
      const image: NewImage = {
        ...stored,
        format: output.format,
        width: output.width,
        height: output.height,
        ownerId: source.owner_id,
        filename: null,
        orientation: 1,
        sourceId: source.id,
        pipeline,
      };
      return tx ? insertImageIn(tx, image) : insertImage(image);
    },

    /** All the original bytes at once (pipelines need them whole). */
    async readBytes(record: ImageRecord): Promise<Uint8Array> {
      const held = originals.get(record.sha256);
      if (held) return held.value;
      const read = await blobs.read(record.sha256);
      if (!read) throw new ApiError("not_found", `No image with id ${record.id}`);
      // Shared: each render posts it to an image worker.
      const bytes = originals.keeps(read.length) ? sharedCopy(read) : read;
      originals.set(record.sha256, { bytes: bytes.length, group: record.sha256, value: bytes });
      return bytes;
    },

    /** The original bytes (or `range` of them), streamed from the blob store a piece at a time. */
    async openFile(record: ImageRecord, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
      const stream = await blobs.stream(record.sha256, range);
      if (!stream) throw new ApiError("not_found", `No image with id ${record.id}`);
      return stream;
    },

    /**
     * Where a client may fetch the original directly for a short while (a presigned object-store
     * URL), when downloads are redirected (S3_DOWNLOADS=redirect) and the store can sign one;
     * null: stream it.
     */
    async directUrl(
      record: ImageRecord,
      headers: { contentType: string; contentDisposition: string },
    ): Promise<string | null> {
      if (!deps.directDownloads) return null;
      return blobs.presign(record.sha256, { ...headers, ...deps.directDownloads });
    },

    async remove(principal: Principal, id: string): Promise<void> {
      await sql.begin(async (tx) => {
        // Locks in the order writers take them (image, blobs, then the owner's usage, which the
        // delete's triggers update), so a concurrent upload of the same bytes cannot deadlock.
        // NO KEY UPDATE, not UPDATE: another delete's release of the shared blob checks the
        // images still referring to it with a key-share lock, which FOR UPDATE would make wait
        // for this transaction while this one waits for that one's blob lock (a deadlock, 500).
        const [row] = await tx<{ sha256: string }[]>`
          SELECT sha256 FROM images WHERE id = ${id} AND ${visibleTo(sql, principal)}
          FOR NO KEY UPDATE`;
        if (!row) throw new ApiError("not_found", `No image with id ${id}`);
        // Read before the delete, whose cascade takes the cache rows (not their blobs).
        const held = [row.sha256, ...((await deps.heldWith?.(tx, id)) ?? [])];
        await blobs.lockForRelease(tx, held);
        await tx`DELETE FROM images WHERE id = ${id}`;
        await blobs.release(tx, held);
      });
      deps.onRemoved?.(id);
    },
  };
}
