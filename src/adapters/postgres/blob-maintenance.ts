import { createHash } from "node:crypto";
import type { BlobLocation } from "../../platform/blob-store.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import type { ObjectStore } from "../../platform/object-store.ts";
import { BLOB_KEY_PREFIX, guardObject, objectKeyOf, writeChunks } from "./postgres-blob-store.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;

export type GarbageReport = { scanned: number; deleted: number; kept: number };

/**
 * Deletes every object under `blobs/` that no committed `blobs` row needs (none with its digest
 * and location `object`): what an upload killed before its commit, or a rolled-back write, left
 * behind, and the bytes of released blobs. An object whose guard a transaction holds (one
 * writing it now, or moving it) is left for the next run, so a write in flight never loses its
 * object; keys that are not a digest are not Pictor's and are left alone.
 *
 * @example
 * const { deleted } = await collectBlobGarbage(db.sql, objects);
 */
export async function collectBlobGarbage(sql: Sql, objects: ObjectStore): Promise<GarbageReport> {
  const report: GarbageReport = { scanned: 0, deleted: 0, kept: 0 };
  for await (const object of objects.list(BLOB_KEY_PREFIX)) {
    const sha256 = object.key.slice(BLOB_KEY_PREFIX.length);
    if (!SHA256_HEX.test(sha256)) continue;
    report.scanned++;
    const deleted = await sql.begin(async (tx) => {
      if (!(await guardObject(tx, sha256, true))) return false;
      const [needed] = await tx`
        SELECT 1 FROM blobs WHERE sha256 = ${sha256} AND location = 'object'`;
      if (needed) return false;
      // Deleted while the guard is held: no writer can store this digest meanwhile.
      await objects.delete(object.key);
      return true;
    });
    if (deleted) report.deleted++;
    else report.kept++;
  }
  return report;
}

export type MoveReport = { moved: number; bytes: number; left: number };

/**
 * Moves every blob to `to` (`object`: the object store; `postgres`: blob_chunks), one blob per
 * transaction: copies the bytes, reads the copy back and checks its SHA-256, then switches the
 * row (and drops the Postgres chunks, when they were the source). An interrupted run leaves each
 * blob either moved or where it was (at worst an object no row needs, for the garbage
 * collector), so running it again finishes the work. Objects left behind by a move to Postgres
 * are deleted by a garbage collection at the end.
 *
 * @example
 * await moveBlobs(db.sql, objects, "object", { onMoved: (sha) => console.log(sha) });
 */
export async function moveBlobs(
  sql: Sql,
  objects: ObjectStore,
  to: BlobLocation,
  options: { onMoved?: (sha256: string, bytes: number) => void; limit?: number } = {},
): Promise<MoveReport> {
  const from: BlobLocation = to === "object" ? "postgres" : "object";
  const report: MoveReport = { moved: 0, bytes: 0, left: 0 };
  let after = "";
  for (;;) {
    if (options.limit !== undefined && report.moved >= options.limit) break;
    const [next] = await sql<{ sha256: string }[]>`
      SELECT sha256 FROM blobs WHERE location = ${from} AND sha256 > ${after}
      ORDER BY sha256 LIMIT 1`;
    if (!next) break;
    after = next.sha256;
    const bytes = await sql.begin(async (tx) => {
      await guardObject(tx, next.sha256);
      // NO KEY UPDATE: writers holding the blob (KEY SHARE) go on; a release waits for the move.
      const [row] = await tx<{ location: BlobLocation; byte_size: string }[]>`
        SELECT location, byte_size FROM blobs WHERE sha256 = ${next.sha256} FOR NO KEY UPDATE`;
      if (row?.location !== from) return null;
      const size = Number(row.byte_size);
      const key = objectKeyOf(next.sha256);
      if (to === "object") {
        // Whole: a blob is at most MAX_UPLOAD_BYTES, and this runs in the CLI, one at a time.
        await objects.put(
          key,
          new Uint8Array(await new Response(chunksOf(tx, next.sha256)).arrayBuffer()),
        );
        await verify(next.sha256, size, await objects.get(key));
        await tx`DELETE FROM blob_chunks WHERE sha256 = ${next.sha256}`;
      } else {
        const source = await objects.get(key);
        if (!source) throw new Error(`blob ${next.sha256}: its object ${key} is missing`);
        await writeChunks(tx, next.sha256, source);
        await verify(next.sha256, size, chunksOf(tx, next.sha256));
      }
      await tx`UPDATE blobs SET location = ${to} WHERE sha256 = ${next.sha256}`;
      return size;
    });
    if (bytes === null) continue;
    report.moved++;
    report.bytes += bytes;
    options.onMoved?.(next.sha256, bytes);
  }
  const [left] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM blobs WHERE location = ${from}`;
  report.left = left?.n ?? 0;
  if (to === "postgres" && report.left === 0) await collectBlobGarbage(sql, objects);
  return report;
}

/**
 * The chunks of a blob kept in Postgres, in order, one query per chunk, read in the moving
 * transaction (the embedded database has one connection, which that transaction holds).
 */
function chunksOf(sql: Transaction, sha256: string): ReadableStream<Uint8Array> {
  let seq = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const [row] = await sql<{ bytes: Uint8Array }[]>`
          SELECT bytes FROM blob_chunks WHERE sha256 = ${sha256} AND seq = ${seq++}`;
        if (row) controller.enqueue(row.bytes);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads a copy through and throws unless it has `size` bytes whose SHA-256 is `sha256`. */
async function verify(
  sha256: string,
  size: number,
  copy: ReadableStream<Uint8Array> | null,
): Promise<void> {
  if (!copy) throw new Error(`blob ${sha256}: the copy cannot be read back`);
  const hash = createHash("sha256");
  let read = 0;
  for await (const piece of copy) {
    hash.update(piece);
    read += piece.length;
  }
  const digest = hash.digest("hex");
  if (read !== size || digest !== sha256) {
    throw new Error(
      `blob ${sha256}: the copy has ${read} bytes with SHA-256 ${digest}, not ${size} bytes with its own`,
    );
  }
}
