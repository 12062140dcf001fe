import {
  type BlobLocation,
  type BlobStore,
  claimBlobRow,
  holdBlob,
  lockBlobRows,
  releaseBlobRow,
} from "../../platform/blob-store.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import {
  type BlobBody,
  type ByteRange,
  bodySize,
  bodyStream,
  type ObjectStore,
} from "../../platform/object-store.ts";

/** The most bytes one query carries; see the blob_chunks migration. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** Where the object store keeps a blob: under `blobs/`, so a shared bucket's other keys are safe. */
export const BLOB_KEY_PREFIX = "blobs/";
export const objectKeyOf = (sha256: string) => `${BLOB_KEY_PREFIX}${sha256}`;

// The first argument of the two-key advisory locks that guard a blob's object (the second is
// taken from its digest): a namespace of its own, apart from the migrations' one-key lock.
const OBJECT_LOCK_CLASS = 0x626c6f62; // "blob"

/**
 * Guards the object of `sha256` against the garbage collector until `tx` ends: taken (shared) by
 * every transaction that writes the object before its row commits, tried (exclusive) by the
 * collector before it deletes one no committed row needs. So the collector never deletes an
 * object a transaction in flight has written or is writing.
 */
export async function guardObject(tx: Transaction, sha256: string, exclusive = false) {
  const key = tx`${OBJECT_LOCK_CLASS}::int, ('x' || left(${sha256}, 8))::bit(32)::int`;
  if (!exclusive) {
    await tx`SELECT pg_advisory_xact_lock_shared(${key})`;
    return true;
  }
  const [row] = await tx<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${key}) AS ok`;
  return row?.ok === true;
}

/** Re-cuts a stream into pieces of exactly `size` bytes (the last one shorter). */
async function* piecesOf(stream: ReadableStream<Uint8Array>, size: number) {
  let piece = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of stream) {
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(chunk.length - at, size - filled);
      piece.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield piece;
        piece = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece.subarray(0, filled);
}

/**
 * Writes `body` as the blob_chunks of `sha256`, inside `tx`; the byte count written.
 *
 * @example
 * await writeChunks(tx, sha256, { size, stream: () => spooled.stream() });
 */
export async function writeChunks(
  tx: Transaction,
  sha256: string,
  body: BlobBody | ReadableStream<Uint8Array>,
): Promise<number> {
  let seq = 0;
  let written = 0;
  const stream = body instanceof ReadableStream ? body : bodyStream(body);
  for await (const piece of piecesOf(stream, BLOB_CHUNK_BYTES)) {
    await tx`INSERT INTO blob_chunks (sha256, seq, bytes) VALUES (${sha256}, ${seq++}, ${piece})`;
    written += piece.length;
  }
  return written;
}

/**
 * Streams `range` of the chunks of `sha256`, one chunk per query and per pull, so that a slow
 * client holds one chunk in memory, and the embedded database's single connection is never
 * taken for a whole original (other requests, /readyz among them, would queue behind it).
 */
function chunkStream(sql: Sql, sha256: string, range: ByteRange): ReadableStream<Uint8Array> {
  let at = range.start;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (at > range.end) return controller.close();
        const seq = Math.floor(at / BLOB_CHUNK_BYTES);
        const offset = at - seq * BLOB_CHUNK_BYTES;
        const length = Math.min(BLOB_CHUNK_BYTES - offset, range.end + 1 - at);
        // substring() counts from 1; only the bytes asked for leave the database.
        const [row] = await sql<{ bytes: Uint8Array }[]>`
          SELECT substring(bytes FROM ${offset + 1} FOR ${length}) AS bytes
          FROM blob_chunks WHERE sha256 = ${sha256} AND seq = ${seq}`;
        if (!row || row.bytes.length === 0) {
          return controller.error(new Error(`blob ${sha256} lost chunk ${seq}`));
        }
        at += row.bytes.length;
        controller.enqueue(row.bytes);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Image bytes behind their `blobs` rows: in Postgres, in chunks of BLOB_CHUNK_BYTES (deleted with
 * the row by cascade) — the default, in the same database as the records — or, given `objects`,
 * in an object store under `blobs/<sha256>`. Each row says where its bytes are (`location`), so
 * an installation moved from one to the other (move-blobs) reads both while it moves; new bytes
 * go to `writeTo` (the object store when there is one, unless told). A released object stays until the garbage collector
 * (collectBlobGarbage) finds no row needing it: deleting it at release could not be undone if the
 * releasing transaction rolled back.
 *
 * @example
 * const blobs = createPostgresBlobStore(db.sql, createS3ObjectStore(settings));
 * const stream = await blobs.stream(record.sha256, { start: 0, end: 99 });
 */
export function createPostgresBlobStore(
  sql: Sql,
  objects?: ObjectStore,
  writeTo: BlobLocation = objects ? "object" : "postgres",
): BlobStore {
  const toObjects = writeTo === "object" ? objects : undefined;

  async function find(sha256: string) {
    const [blob] = await sql<{ byte_size: string; location: BlobLocation }[]>`
      SELECT byte_size, location FROM blobs WHERE sha256 = ${sha256}`;
    if (!blob) return null;
    if (blob.location === "object" && !objects) {
      throw new Error(
        `blob ${sha256} is in the object store, which is not configured (BLOB_STORE=s3 and its S3_* settings)`,
      );
    }
    return { size: Number(blob.byte_size), location: blob.location };
  }

  async function stream(sha256: string, range?: ByteRange) {
    const blob = await find(sha256);
    if (!blob) return null;
    if (blob.location === "object" && objects) return objects.get(objectKeyOf(sha256), range);
    return chunkStream(sql, sha256, range ?? { start: 0, end: blob.size - 1 });
  }

  return {
    async put(tx, sha256, body) {
      if (toObjects) await guardObject(tx, sha256);
      // Only the transaction whose insert went through writes the bytes.
      if (!(await claimBlobRow(tx, sha256, bodySize(body), toObjects ? "object" : "postgres"))) {
        return;
      }
      if (toObjects) await toObjects.put(objectKeyOf(sha256), body);
      else await writeChunks(tx, sha256, body);
    },

    hold: holdBlob,

    stream,

    async read(sha256) {
      const blob = await find(sha256);
      if (!blob) return null;
      const body = await stream(sha256);
      if (!body) return null;
      const out = new Uint8Array(blob.size);
      let at = 0;
      for await (const piece of body) {
        if (at + piece.length > out.length) return null;
        out.set(piece, at);
        at += piece.length;
      }
      return at === out.length ? out : null;
    },

    async presign(sha256, options) {
      if (!objects?.presign || (await find(sha256))?.location !== "object") return null;
      return objects.presign(objectKeyOf(sha256), options);
    },

    lockForRelease: lockBlobRows,

    async release(tx, sha256s) {
      for (const sha256 of new Set(sha256s)) await releaseBlobRow(tx, sha256);
    },
  };
}
