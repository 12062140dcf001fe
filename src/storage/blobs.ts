import type { Sql, Transaction } from "../db/database.ts";

/** The most bytes one query carries; see the blob_chunks migration. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/**
 * Image bytes in Postgres, addressed by their SHA-256 and kept in chunks. Writes happen inside the
 * caller's transaction, so a blob and the records that use it appear or vanish together.
 */
export const postgresBlobs = {
  /**
   * Stores `bytes` under `sha256` unless they are there already (then none is sent); locks the
   * blob row against a concurrent release either way.
   */
  async put(tx: Transaction, sha256: string, bytes: Uint8Array): Promise<void> {
    const [existing] = await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
    if (existing) return;
    await tx`INSERT INTO blobs (sha256, byte_size) VALUES (${sha256}, ${bytes.length})`;
    for (let seq = 0; seq * BLOB_CHUNK_BYTES < bytes.length; seq++) {
      const piece = bytes.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES);
      await tx`INSERT INTO blob_chunks (sha256, seq, bytes) VALUES (${sha256}, ${seq}, ${piece})`;
    }
  },

  /** The bytes as a stream that reads one chunk per pull, or null when there is no such blob. */
  async stream(sql: Sql, sha256: string): Promise<ReadableStream<Uint8Array> | null> {
    const [blob] = await sql<{ chunks: number }[]>`
      SELECT (SELECT count(*) FROM blob_chunks c WHERE c.sha256 = b.sha256)::int AS chunks
      FROM blobs b WHERE b.sha256 = ${sha256}`;
    if (!blob) return null;
    let seq = 0;
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

  /**
   * The whole blob in one buffer, for the pipelines that need every byte at once. One query per
   * chunk: the embedded database has a single connection, which must not stay taken while a
   * whole original goes through it (other requests, /readyz among them, queue behind it).
   */
  async read(sql: Sql, sha256: string): Promise<Uint8Array | null> {
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

  /** Deletes each blob that no image and no cached rendering refers to any more. */
  async release(tx: Transaction, sha256s: string[]): Promise<void> {
    for (const sha256 of new Set(sha256s)) {
      await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
      await tx`DELETE FROM blobs WHERE sha256 = ${sha256}
               AND NOT EXISTS (SELECT 1 FROM images WHERE sha256 = ${sha256})
               AND NOT EXISTS (SELECT 1 FROM render_cache WHERE sha256 = ${sha256})`;
    }
  },
};
