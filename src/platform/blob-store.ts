import type { Transaction } from "./database.ts";
import { type BlobBody, type ByteRange, bodyBytes, bodySize, bodyStream } from "./object-store.ts";

/** Where a blob's bytes live: beside its row in Postgres, or in the object store (S3, R2). */
export type BlobLocation = "postgres" | "object";

/**
 * Content-addressed bytes (uploaded images, cached renderings), by lowercase hex SHA-256. Each
 * blob has a row in the `blobs` table, which the records that use it reference by foreign key:
 * writes and releases happen inside the caller's transaction, so a blob and its records appear
 * or vanish together, and a blob goes only once no record refers to it (the foreign keys say
 * which: the store knows no table but its own). Implementations differ in where the bytes live.
 *
 * Lock order, which every writer and release follows so that none deadlocks: the record's image,
 * then its blob, then the owner's usage row (which the records' triggers update).
 *
 * Bytes are written before the row that points at them commits; bytes that no row points at
 * (a writer that rolled back or was killed, a released blob kept in an object store) are the
 * garbage collector's, never a reader's.
 */
export interface BlobStore {
  /**
   * Stores `body` under `sha256` unless it is there already (then none is sent); holds the
   * blob against a concurrent release either way, until `tx` ends. Safe when other transactions
   * store the same bytes at once. A streamed body is read once, a piece at a time.
   */
  put(tx: Transaction, sha256: string, body: BlobBody): Promise<void>;
  /** Holds a stored blob against a concurrent release until `tx` ends; false when there is none. */
  hold(tx: Transaction, sha256: string): Promise<boolean>;
  /** The whole blob in one buffer, for the pipelines that need every byte at once. */
  read(sha256: string): Promise<Uint8Array | null>;
  /**
   * The bytes as a stream (only `range` of them when given, which must lie inside the blob), or
   * null when there is no such blob.
   */
  stream(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /**
   * A short-lived URL from which a client can fetch the blob itself, when its bytes are in a
   * store that signs such URLs; null otherwise (the caller streams them instead).
   */
  presign(
    sha256: string,
    options: { ttlSeconds: number; contentType: string; contentDisposition: string },
  ): Promise<string | null>;
  /**
   * Locks blobs about to be released, in one order (so two releases sharing blobs cannot
   * deadlock); called before the records that refer to them are deleted.
   */
  lockForRelease(tx: Transaction, sha256s: Iterable<string>): Promise<void>;
  /** Deletes each blob, locked by lockForRelease, that no record refers to any more. */
  release(tx: Transaction, sha256s: Iterable<string>): Promise<void>;
}

/**
 * Inserts the `blobs` row of `sha256`, or holds the existing one; true when this transaction
 * inserted it (and so must store the bytes). An insert that conflicts with an uncommitted one
 * waits for it; a row released between the conflict and the lock is inserted after all.
 *
 * @example
 * if (await claimBlobRow(tx, sha256, bytes.length)) await storeBytes(sha256, bytes);
 */
export async function claimBlobRow(
  tx: Transaction,
  sha256: string,
  byteSize: number,
  location: BlobLocation = "postgres",
): Promise<boolean> {
  for (;;) {
    const [inserted] = await tx`
      INSERT INTO blobs (sha256, byte_size, location) VALUES (${sha256}, ${byteSize}, ${location})
      ON CONFLICT DO NOTHING RETURNING 1`;
    if (inserted) return true;
    if (await holdBlob(tx, sha256)) return false;
  }
}

/**
 * Holds the `blobs` row of `sha256` until `tx` ends, so that a release cannot take it before the
 * record that will refer to it is written. A key-share lock: holders do not wait for each other,
 * only a release (FOR UPDATE) waits for them.
 */
export async function holdBlob(tx: Transaction, sha256: string): Promise<boolean> {
  const [row] = await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR KEY SHARE`;
  return Boolean(row);
}

/** Locks the `blobs` rows about to be released, sorted: see BlobStore.lockForRelease. */
export async function lockBlobRows(tx: Transaction, sha256s: Iterable<string>): Promise<void> {
  for (const sha256 of [...new Set(sha256s)].sort()) {
    await tx`SELECT 1 FROM blobs WHERE sha256 = ${sha256} FOR UPDATE`;
  }
}

// Postgres's foreign_key_violation: some record still references the blob.
const FOREIGN_KEY_VIOLATION = "23503";

/**
 * Deletes the `blobs` row of `sha256` unless a record still refers to it; true when it went. The
 * attempt runs in a savepoint, so a refusal by a foreign key leaves `tx` usable.
 *
 * @example
 * if (await releaseBlobRow(tx, sha256)) bytes.delete(sha256);
 */
export async function releaseBlobRow(tx: Transaction, sha256: string): Promise<boolean> {
  try {
    const deleted = await tx.savepoint(
      (sp) => sp`DELETE FROM blobs WHERE sha256 = ${sha256} RETURNING 1`,
    );
    return deleted.length > 0;
  } catch (err) {
    if ((err as { code?: string }).code === FOREIGN_KEY_VIOLATION) return false;
    throw err;
  }
}

/**
 * A blob store that keeps the bytes in this process's memory (the `blobs` rows stay in the
 * database, as the records reference them): for tests and single-process trials. A release
 * drops the bytes at once, so a transaction that releases a blob and then rolls back loses them.
 *
 * @example
 * const images = createImageService({ sql, blobs: createMemoryBlobStore(), spool, limits });
 */
export function createMemoryBlobStore(): BlobStore {
  const bytesBySha = new Map<string, Uint8Array>();
  return {
    async put(tx, sha256, body) {
      if (await claimBlobRow(tx, sha256, bodySize(body))) {
        bytesBySha.set(sha256, (await bodyBytes(body)).slice());
      }
    },
    hold: holdBlob,
    async read(sha256) {
      return bytesBySha.get(sha256) ?? null;
    },
    async stream(sha256, range) {
      const bytes = bytesBySha.get(sha256);
      if (!bytes) return null;
      return bodyStream(range ? bytes.subarray(range.start, range.end + 1) : bytes);
    },
    presign: async () => null,
    lockForRelease: lockBlobRows,
    async release(tx, sha256s) {
      for (const sha256 of new Set(sha256s)) {
        if (await releaseBlobRow(tx, sha256)) bytesBySha.delete(sha256);
      }
    },
  };
}
