import type { Sql, Transaction } from "../db/database.ts";

/**
 * Image bytes in Postgres, addressed by their SHA-256. Every write happens inside the caller's
 * transaction, so a blob and the records that use it appear or vanish together.
 */
export const postgresBlobs = {
  /** Stores `bytes` under `sha256` unless already there; locks the row against a concurrent release. */
  async put(tx: Transaction, sha256: string, bytes: Uint8Array): Promise<void> {
    const [existing] = await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
    if (existing) return; // identical bytes already stored: do not send them again
    await tx`INSERT INTO blobs (sha256, bytes, byte_size) VALUES (${sha256}, ${bytes}, ${bytes.length})
             ON CONFLICT (sha256) DO NOTHING`;
  },

  async get(sql: Sql, sha256: string): Promise<Uint8Array | null> {
    const [row] = await sql<
      { bytes: Uint8Array }[]
    >`SELECT bytes FROM blobs WHERE sha256 = ${sha256}`;
    return row ? row.bytes : null;
  },

  /** Deletes the blob when no image refers to it any more. */
  async release(tx: Transaction, sha256: string): Promise<void> {
    await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
    await tx`DELETE FROM blobs WHERE sha256 = ${sha256}
             AND NOT EXISTS (SELECT 1 FROM images WHERE sha256 = ${sha256})`;
  },
};
