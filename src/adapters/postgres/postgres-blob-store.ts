import {
  type BlobStore,
  claimBlobRow,
  holdBlob,
  lockBlobRows,
  releaseBlobRow,
} from "../../platform/blob-store.ts";
import type { Sql } from "../../platform/database.ts";

/** The most bytes one query carries; see the blob_chunks migration. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/**
 * Image bytes in Postgres, kept in chunks of BLOB_CHUNK_BYTES beside their `blobs` row (deleted
 * with it by cascade): the default store, in the same database as the records.
 *
 * @example
 * const blobs = createPostgresBlobStore(db.sql);
 * const stream = await blobs.stream(record.sha256);
 */
export function createPostgresBlobStore(sql: Sql): BlobStore {
  return {
    async put(tx, sha256, bytes) {
      // Only the transaction whose insert went through writes the chunks.
      if (!(await claimBlobRow(tx, sha256, bytes.length))) return;
      for (let seq = 0; seq * BLOB_CHUNK_BYTES < bytes.length; seq++) {
        const piece = bytes.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES);
        await tx`INSERT INTO blob_chunks (sha256, seq, bytes) VALUES (${sha256}, ${seq}, ${piece})`;
      }
    },

    hold: holdBlob,

    async stream(sha256) {
      const [blob] = await sql<{ chunks: number }[]>`
        SELECT (SELECT count(*) FROM blob_chunks c WHERE c.sha256 = b.sha256)::int AS chunks
        FROM blobs b WHERE b.sha256 = ${sha256}`;
      if (!blob) return null;
      let seq = 0;
      // One chunk per pull: a slow client holds one chunk in memory, not the file.
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (seq === blob.chunks) return controller.close();
            const [row] = await sql<{ bytes: Uint8Array }[]>`
              SELECT bytes FROM blob_chunks WHERE sha256 = ${sha256} AND seq = ${seq++}`;
            if (!row) return controller.error(new Error(`blob ${sha256} lost chunk ${seq - 1}`));
            controller.enqueue(row.bytes);
          },
        },
        { highWaterMark: 0 },
      );
    },

    // One query per chunk: the embedded database has a single connection, which must not stay
    // taken while a whole original goes through it (other requests, /readyz among them, queue
    // behind it).
    async read(sha256) {
      const [blob] = await sql<{ byte_size: string }[]>`
        SELECT byte_size FROM blobs WHERE sha256 = ${sha256}`;
      if (!blob) return null;
      const out = new Uint8Array(Number(blob.byte_size));
      for (let seq = 0, at = 0; at < out.length; seq++) {
        const [row] = await sql<{ bytes: Uint8Array }[]>`
          SELECT bytes FROM blob_chunks WHERE sha256 = ${sha256} AND seq = ${seq}`;
        if (!row) return null;
        out.set(row.bytes, at);
        at += row.bytes.length;
      }
      return out;
    },

    lockForRelease: lockBlobRows,

    async release(tx, sha256s) {
      for (const sha256 of new Set(sha256s)) await releaseBlobRow(tx, sha256);
    },
  };
}
