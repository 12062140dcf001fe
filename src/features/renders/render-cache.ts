import type { EncodableFormat } from "../../core/pipeline/pipeline.ts";
import type { BlobStore } from "../../platform/blob-store.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import type { Quota } from "../images/index.ts";

/** A rendering kept in the cache: its bytes are a blob, streamed from the blob store. */
export type CachedRendering = {
  format: EncodableFormat;
  width: number;
  height: number;
  sha256: string;
  byteSize: number;
  body: ReadableStream<Uint8Array>;
};

export type RenderCache = ReturnType<typeof createRenderCache>;

/**
 * The render cache: the `render_cache` table (one row per image and cache key, dropped with its
 * image by cascade) and the blobs its rows hold. Keys are the caller's: a render is keyed by the
 * source's SHA-256 and the canonical pipeline. A rendering counts against its image owner's
 * bytes quota (MAX_USER_BYTES), like everything stored for them.
 *
 * @example
 * const cache = createRenderCache({ sql, blobs, quota });
 * const hit = await cache.find(imageId, key);
 */
export function createRenderCache(deps: { sql: Sql; blobs: BlobStore; quota: Quota }) {
  const { sql, blobs, quota } = deps;
  return {
    /** The cached rendering of `imageId` under `key`, or null. */
    async find(imageId: string, key: string): Promise<CachedRendering | null> {
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
        WHERE c.image_id = ${imageId} AND c.cache_key = ${key}`;
      if (!hit) return null;
      const body = await blobs.stream(hit.sha256);
      if (!body) return null;
      const { byte_size, ...rest } = hit;
      return { ...rest, byteSize: Number(byte_size), body };
    },

    /**
     * 413 when `ownerId` has no room for `adding` bytes: before a rendering is computed (no byte
     * left), and before a computed one is answered while its write is deferred.
     */
    ensureRoom: (ownerId: string | null, adding?: number) => quota.ensureRoom(sql, ownerId, adding),

    /**
     * Keeps a rendering of `image` under `key`, unless the image was deleted meanwhile; 413 when
     * it would bring the owner past their quota.
     */
    async store(
      image: { id: string; owner_id: string | null },
      key: string,
      rendering: { format: EncodableFormat; width: number; height: number; bytes: Uint8Array },
      sha256: string,
    ): Promise<void> {
      await sql.begin(async (tx) => {
        // The source may have been deleted meanwhile: then there is nothing to cache against. The
        // share lock keeps it from going before this transaction commits (a delete locks it FOR
        // NO KEY UPDATE first, so it either sees this rendering's blob or finds nothing to hold).
        const [alive] = await tx`SELECT 1 FROM images WHERE id = ${image.id} FOR SHARE`;
        if (!alive) return;
        await blobs.put(tx, sha256, rendering.bytes);
        const size = rendering.bytes.length;
        const [inserted] = await tx`
          INSERT INTO render_cache (image_id, cache_key, format, width, height, sha256, owner_id, byte_size)
          VALUES (${image.id}, ${key}, ${rendering.format}, ${rendering.width}, ${rendering.height},
                  ${sha256}, ${image.owner_id}, ${size})
          ON CONFLICT DO NOTHING RETURNING 1`;
        if (inserted) await quota.check(tx, image.owner_id, size);
      });
    },

    /**
     * The blobs that `imageId`'s cached renderings hold: read before the image is deleted (its
     * cascade takes the rows, not their blobs), to be released with it.
     */
    async blobsOf(tx: Transaction, imageId: string): Promise<string[]> {
      const rows = await tx<{ sha256: string }[]>`
        SELECT sha256 FROM render_cache WHERE image_id = ${imageId}`;
      return rows.map((r) => r.sha256);
    },
  };
}
