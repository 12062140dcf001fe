import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Database } from "../src/adapters/postgres/database.ts";
import {
  BLOB_CHUNK_BYTES,
  createPostgresBlobStore,
} from "../src/adapters/postgres/postgres-blob-store.ts";
import { sha256Hex } from "../src/core/lib/encoding.ts";
import { uuidv7 } from "../src/core/lib/uuid.ts";
import { type BlobStore, createMemoryBlobStore } from "../src/platform/blob-store.ts";
import { type DatabaseKind, openTestDatabase, postgresAvailable } from "./support/database.ts";

const kinds: DatabaseKind[] = postgresAvailable ? ["embedded", "postgres"] : ["embedded"];
const stores: [string, (db: Database) => BlobStore][] = [
  ["postgres", (db) => createPostgresBlobStore(db.sql)],
  ["memory", () => createMemoryBlobStore()],
];

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
