import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { collectBlobGarbage, moveBlobs } from "../src/adapters/postgres/blob-maintenance.ts";
import type { Database } from "../src/adapters/postgres/database.ts";
import {
  BLOB_CHUNK_BYTES,
  createPostgresBlobStore,
} from "../src/adapters/postgres/postgres-blob-store.ts";
import { createR2ObjectStore, type R2BucketLike } from "../src/adapters/r2/r2-object-store.ts";
import { sha256Hex } from "../src/core/lib/encoding.ts";
import { uuidv7 } from "../src/core/lib/uuid.ts";
import { type BlobStore, createMemoryBlobStore } from "../src/platform/blob-store.ts";
import { createMemoryObjectStore } from "../src/platform/object-store.ts";
import { type DatabaseKind, openTestDatabase, postgresAvailable } from "./support/database.ts";

const kinds: DatabaseKind[] = postgresAvailable ? ["embedded", "postgres"] : ["embedded"];
const stores: [string, (db: Database) => BlobStore][] = [
  ["postgres", (db) => createPostgresBlobStore(db.sql)],
  ["memory", () => createMemoryBlobStore()],
  ["object", (db) => createPostgresBlobStore(db.sql, createMemoryObjectStore())],
  ["r2", (db) => createPostgresBlobStore(db.sql, createR2ObjectStore(memoryR2Bucket()))],
];

/** An in-memory stand-in for a Workers R2 binding, with R2's shapes (ranges by offset/length). */
function memoryR2Bucket(): R2BucketLike {
  const objects = new Map<string, { bytes: Uint8Array; uploaded: Date }>();
  return {
    async put(key, value) {
      const bytes =
        value instanceof Blob
          ? new Uint8Array(await value.arrayBuffer())
          : value instanceof ReadableStream
            ? new Uint8Array(await new Response(value).arrayBuffer())
            : new Uint8Array(ArrayBuffer.isView(value) ? value.buffer.slice(0) : value);
      objects.set(key, { bytes, uploaded: new Date() });
    },
    async get(key, options) {
      const object = objects.get(key);
      if (!object) return null;
      const { offset = 0, length = object.bytes.length } = options?.range ?? {};
      return { body: new Blob([object.bytes.slice(offset, offset + length)]).stream() };
    },
    async head(key) {
      const object = objects.get(key);
      return object ? { key, size: object.bytes.length, uploaded: object.uploaded } : null;
    },
    async delete(key) {
      objects.delete(key);
    },
    // Two keys a page, so that the store follows the cursor.
    async list({ prefix, cursor }) {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const from = cursor ? Number(cursor) : 0;
      const page = keys.slice(from, from + 2);
      return {
        objects: page.map((key) => ({
          key,
          size: objects.get(key)?.bytes.length ?? 0,
          uploaded: new Date(),
        })),
        truncated: from + 2 < keys.length,
        cursor: String(from + 2),
      };
    },
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Both implementations of the BlobStore port keep the same contract, on both databases: the bytes
// come back whole and streamed, and a release deletes only what no record refers to.
for (const kind of kinds) {
  for (const [name, make] of stores) {
    describe(`BlobStore ${name} [${kind}]`, () => {
      let db: Database;
      let blobs: BlobStore;
      beforeAll(async () => {
        db = await openTestDatabase(kind);
        blobs = make(db);
      });
      afterAll(() => db?.close());

      const bytesOf = (size: number, seed: number) =>
        Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);

      test("stores once, reads whole and streamed (over several chunks)", async () => {
        const bytes = bytesOf(BLOB_CHUNK_BYTES * 2 + 17, 1);
        const sha256 = await sha256Hex(bytes);
        await db.sql.begin((tx) => blobs.put(tx, sha256, bytes));
        await db.sql.begin((tx) => blobs.put(tx, sha256, bytes));
        const [{ count }] = (await db.sql`
          SELECT count(*)::int AS count FROM blobs WHERE sha256 = ${sha256}`) as [
          { count: number },
        ];
        expect(count).toBe(1);
        expect(await blobs.read(sha256)).toEqual(bytes);
        const stream = await blobs.stream(sha256);
        expect(stream && (await readAll(stream))).toEqual(bytes);
        const range = await blobs.stream(sha256, {
          start: BLOB_CHUNK_BYTES - 3,
          end: BLOB_CHUNK_BYTES + 4,
        });
        expect(range && (await readAll(range))).toEqual(
          bytes.subarray(BLOB_CHUNK_BYTES - 3, BLOB_CHUNK_BYTES + 5),
        );
        const blob = await blobs.stream(sha256, { start: 0, end: 0 });
        expect(blob && (await readAll(blob))).toEqual(bytes.subarray(0, 1));
        expect(await blobs.read("0".repeat(64))).toBeNull();
        expect(await blobs.stream("0".repeat(64))).toBeNull();
      });

      test("a release keeps a blob a record refers to, and deletes it once none does", async () => {
        const bytes = bytesOf(1000, 2);
        const sha256 = await sha256Hex(bytes);
        const imageId = uuidv7();
        await db.sql.begin(async (tx) => {
          await blobs.put(tx, sha256, bytes);
          await tx`INSERT INTO images (id, format, width, height, byte_size, sha256)
                   VALUES (${imageId}, 'png', 1, 1, ${bytes.length}, ${sha256})`;
        });
        await db.sql.begin(async (tx) => {
          await blobs.release(tx, [sha256]);
          // The refused delete ran in a savepoint: the transaction goes on.
          expect(await blobs.hold(tx, sha256)).toBe(true);
        });
        expect(await blobs.read(sha256)).toEqual(bytes);

        await db.sql.begin(async (tx) => {
          await tx`DELETE FROM images WHERE id = ${imageId}`;
          await blobs.release(tx, [sha256, sha256]);
        });
        expect(await blobs.read(sha256)).toBeNull();
        await db.sql.begin(async (tx) => expect(await blobs.hold(tx, sha256)).toBe(false));
      });
    });
  }
}

// The object store's consistency: what no committed row needs is collected, what a row or a
// transaction in flight needs is not; a move copies, verifies and switches, and can be re-run.
for (const kind of kinds) {
  describe(`blob garbage collection and moves [${kind}]`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await openTestDatabase(kind);
    });
    afterAll(() => db?.close());

    const bytesOf = (size: number, seed: number) =>
      Uint8Array.from({ length: size }, (_, i) => (i * 17 + seed) % 253);

    test("gc deletes orphans and released objects, keeps needed ones and foreign keys", async () => {
      const objects = createMemoryObjectStore();
      const blobs = createPostgresBlobStore(db.sql, objects);
      const kept = bytesOf(3000, 1);
      const keptSha = await sha256Hex(kept);
      const imageId = uuidv7();
      await db.sql.begin(async (tx) => {
        await blobs.put(tx, keptSha, kept);
        await tx`INSERT INTO images (id, format, width, height, byte_size, sha256)
                 VALUES (${imageId}, 'png', 1, 1, ${kept.length}, ${keptSha})`;
      });
      // A writer that rolled back after its object went up.
      const lost = bytesOf(2000, 2);
      const lostSha = await sha256Hex(lost);
      await db.sql
        .begin(async (tx) => {
          await blobs.put(tx, lostSha, lost);
          throw new Error("rolled back");
        })
        .catch(() => {});
      await objects.put("not-pictor/keep-me", new Uint8Array([1]));
      expect(objects.keys().sort()).toEqual(
        [`blobs/${keptSha}`, `blobs/${lostSha}`, "not-pictor/keep-me"].sort(),
      );
      expect(await collectBlobGarbage(db.sql, objects)).toEqual({
        scanned: 2,
        deleted: 1,
        kept: 1,
      });
      expect(objects.keys().sort()).toEqual([`blobs/${keptSha}`, "not-pictor/keep-me"].sort());
      expect(await blobs.read(keptSha)).toEqual(kept);
    });

    if (kind === "postgres") {
      test("gc leaves the object of a transaction in flight, whose row is not committed yet", async () => {
        const objects = createMemoryObjectStore();
        const blobs = createPostgresBlobStore(db.sql, objects);
        const bytes = bytesOf(1000, 3);
        const sha256 = await sha256Hex(bytes);
        let proceed = () => {};
        const gate = new Promise<void>((resolve) => {
          proceed = resolve;
        });
        let written = () => {};
        const objectWritten = new Promise<void>((resolve) => {
          written = resolve;
        });
        const writer = db.sql.begin(async (tx) => {
          await blobs.put(tx, sha256, bytes);
          written();
          await gate;
          await tx`INSERT INTO images (id, format, width, height, byte_size, sha256)
                   VALUES (${uuidv7()}, 'png', 1, 1, ${bytes.length}, ${sha256})`;
        });
        await objectWritten;
        expect(await collectBlobGarbage(db.sql, objects)).toMatchObject({ deleted: 0 });
        proceed();
        await writer;
        expect(await collectBlobGarbage(db.sql, objects)).toMatchObject({ deleted: 0 });
        expect(await blobs.read(sha256)).toEqual(bytes);
      });
    }

    test("move to the object store and back: verified, switched, resumable", async () => {
      // The other tests' blobs are in object stores of their own: gone, so a move sees only these.
      await db.sql`DELETE FROM images`;
      await db.sql`DELETE FROM blobs`;
      const objects = createMemoryObjectStore();
      const inPostgres = createPostgresBlobStore(db.sql);
      const both = createPostgresBlobStore(db.sql, objects, "postgres");
      const all = await Promise.all(
        [5, 6, 7, 8].map(async (seed) => {
          const bytes = bytesOf(BLOB_CHUNK_BYTES + seed * 1000, seed);
          return { bytes, sha256: await sha256Hex(bytes) };
        }),
      );
      for (const { bytes, sha256 } of all) {
        await db.sql.begin(async (tx) => {
          await inPostgres.put(tx, sha256, bytes);
          await tx`INSERT INTO images (id, format, width, height, byte_size, sha256)
                   VALUES (${uuidv7()}, 'png', 1, 1, ${bytes.length}, ${sha256})`;
        });
      }
      const shas = all.map((b) => b.sha256);
      const where = async () =>
        (
          await db.sql<{ location: string }[]>`
            SELECT location FROM blobs WHERE sha256 IN ${db.sql(shas)} ORDER BY sha256`
        ).map((r) => r.location);
      // Interrupted after two; the rest on the second run.
      expect(await moveBlobs(db.sql, objects, "object", { limit: 2 })).toMatchObject({ moved: 2 });
      expect((await where()).filter((l) => l === "object")).toHaveLength(2);
      for (const { bytes, sha256 } of all) expect(await both.read(sha256)).toEqual(bytes);
      expect(await moveBlobs(db.sql, objects, "object")).toMatchObject({ left: 0 });
      expect(await where()).toEqual(["object", "object", "object", "object"]);
      const [chunks] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM blob_chunks WHERE sha256 IN ${db.sql(shas)}`;
      expect(chunks?.n).toBe(0);
      for (const { bytes, sha256 } of all) expect(await both.read(sha256)).toEqual(bytes);

      // A copy that does not match is refused, and the blob stays where it was.
      const [first] = all;
      if (!first) throw new Error("no blob");
      const corrupting = { ...objects, get: async () => new Blob([new Uint8Array(3)]).stream() };
      await expect(moveBlobs(db.sql, corrupting, "postgres")).rejects.toThrow(
        `blob ${[...shas].sort()[0]}: the copy`,
      );
      expect(await where()).toEqual(["object", "object", "object", "object"]);

      expect(await moveBlobs(db.sql, objects, "postgres")).toMatchObject({ moved: 4, left: 0 });
      expect(await where()).toEqual(["postgres", "postgres", "postgres", "postgres"]);
      expect(objects.keys()).toEqual([]);
      for (const { bytes, sha256 } of all) expect(await inPostgres.read(sha256)).toEqual(bytes);
    });
  });
}
