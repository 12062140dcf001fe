import type { Sql, Transaction } from "./database.ts";

/** The most bytes one query carries; see the blob_chunks migration. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/**
 * Image bytes in Postgres, addressed by their SHA-256 and kept in chunks. Writes happen inside the
 * caller's transaction, so a blob and the records that use it appear or vanish together.
 */
export const postgresBlobs = {
  /**
   * Stores `bytes` under `sha256` unless they are there already (then none is sent), and holds
   * the blob against a concurrent release either way. Safe when other transactions store the same
   * bytes at once: the insert that conflicts with an uncommitted one waits for it, and only the
   * transaction whose insert went through writes the chunks.
   */
  async put(tx: Transaction, sha256: string, bytes: Uint8Array): Promise<void> {
    for (;;) {
      const [inserted] = await tx`
        INSERT INTO blobs (sha256, byte_size) VALUES (${sha256}, ${bytes.length})
        ON CONFLICT DO NOTHING RETURNING 1`;
      if (!inserted) {
        if (await postgresBlobs.hold(tx, sha256)) return;
        // Released between the insert and the lock: store it after all.
        continue;
      }
      for (let seq = 0; seq * BLOB_CHUNK_BYTES < bytes.length; seq++) {
        const piece = bytes.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES);
        await tx`INSERT INTO blob_chunks (sha256, seq, bytes) VALUES (${sha256}, ${seq}, ${piece})`;
      }
      return;
    }
  },

  /**
   * Holds a stored blob until commit, so that a release cannot take it before the row that will
   * refer to it is written; false when there is no such blob. A key-share lock: holders do not
   * wait for each other, only a release (FOR UPDATE) waits for them.
   */
  async hold(tx: Transaction, sha256: string): Promise<boolean> {
    const [held] = await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR KEY SHARE`;
    return held !== undefined;
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

  /**
   * Locks blobs about to be released, in one order (so two releases sharing blobs cannot
   * deadlock). Called before the rows that refer to them are deleted: those deletes lock the
   * owner's usage row, which writers lock after the blob (put, then insert), never before.
   */
  async lockForRelease(tx: Transaction, sha256s: string[]): Promise<void> {
    for (const sha256 of [...new Set(sha256s)].sort()) {
      await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
    }
  },

  /** Deletes each of the blobs, locked by lockForRelease, that nothing refers to any more. */
  async release(tx: Transaction, sha256s: string[]): Promise<void> {
    for (const sha256 of new Set(sha256s)) {
      await tx`DELETE FROM blobs WHERE sha256 = ${sha256}
               AND NOT EXISTS (SELECT 1 FROM images WHERE sha256 = ${sha256})
               AND NOT EXISTS (SELECT 1 FROM render_cache WHERE sha256 = ${sha256})`;
    }
  },
};
