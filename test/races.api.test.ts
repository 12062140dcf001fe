import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase, type TestContext } from "./support/database.ts";
import { fixture, noisePng } from "./support/fixtures.ts";

// Over one blob chunk (1 MiB), so that racing uploads would also race on the chunk rows.
const large = noisePng(1_500_000);
const webp = await fixture("generated/landscape-240.webp");

function upload(app: App, bytes: Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  form.append("file", new File([bytes], "same.png"));
  return app.request("/v1/images", { method: "POST", body: form });
}

async function uploaded(app: App, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const res = await upload(app, bytes);
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

const post = (app: App, path: string, body: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

/** Each status with how often it came, e.g. { 201: 7, 404: 3 }. */
function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/**
 * Three rounds of: upload an image, start `count` requests made by `start` at once, and delete
 * the image as soon as the first of them has answered. The others have found the image by then
 * and are queued for a worker or computing, so they reach the database to store their result
 * after it has gone. Each request must answer one of `allowed`, and nothing made from the image
 * may be left pointing at it (a derived image that made it stays, its source_id set null).
 */
async function raceDelete(
  c: TestContext,
  count: number,
  allowed: number[],
  start: (id: string, i: number) => Response | Promise<Response>,
): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const id = await uploaded(c.app, webp);
    const requests = Array.from({ length: count }, async (_, i) => (await start(id, i)).status);
    await Promise.race(requests);
    expect((await c.app.request(`/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
    const statuses = await Promise.all(requests);
    expect(statuses.filter((s) => !allowed.includes(s))).toEqual([]);
    const [left] = await c.db.sql<{ rows: number }[]>`
      SELECT (SELECT count(*) FROM images WHERE source_id = ${id})
           + (SELECT count(*) FROM render_cache WHERE image_id = ${id})
           + (SELECT count(*) FROM segmentations WHERE image_id = ${id})
           + (SELECT count(*) FROM analysis_cache WHERE image_id = ${id}) AS rows`;
    expect(Number(left?.rows)).toBe(0);
    // A rendering stored while the delete ran is released with the image, never orphaned.
    const [orphans] = await c.db.sql<{ blobs: number }[]>`
      SELECT count(*)::int AS blobs FROM blobs b
      WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.sha256 = b.sha256)
        AND NOT EXISTS (SELECT 1 FROM render_cache r WHERE r.sha256 = b.sha256)`;
    expect(orphans?.blobs).toBe(0);
  }
}

describeEachDatabase("races", (ctx) => {
  test("50 parallel uploads of identical bytes: 50 × 201, one blob, the bytes intact", async () => {
    const c = ctx();
    const u = await c.createUser();
    const responses = await Promise.all(Array.from({ length: 50 }, () => upload(u.app, large)));
    expect(tally(responses.map((r) => r.status))).toEqual({ 201: 50 });
    const ids = await Promise.all(
      responses.map(async (r) => ((await r.json()) as { images: { id: string }[] }).images[0]?.id),
    );
    expect(new Set(ids).size).toBe(50);
    const [blob] = await c.db.sql<{ images: number; chunks: number; bytes: string }[]>`
      SELECT (SELECT count(*)::int FROM images WHERE owner_id = ${u.id}) AS images,
             (SELECT count(*)::int FROM blob_chunks c WHERE c.sha256 = b.sha256) AS chunks,
             (SELECT sum(length(c.bytes)) FROM blob_chunks c WHERE c.sha256 = b.sha256) AS bytes
      FROM blobs b WHERE b.sha256 = (SELECT sha256 FROM images WHERE id = ${ids[0] as string})`;
    expect(blob).toEqual({ images: 50, chunks: 2, bytes: String(large.length) });
    const file = await u.app.request(`/v1/images/${ids[49]}/file`);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(large);
  });

  test("the same bytes from two users at once: all 201; deleting one user's copies keeps the other's", async () => {
    const c = ctx();
    const [a, b] = await Promise.all([c.createUser(), c.createUser()]);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => upload((i % 2 ? a : b).app, webp)),
    );
    expect(tally(responses.map((r) => r.status))).toEqual({ 201: 20 });
    const mine = (await (await a.app.request("/v1/images")).json()) as { items: { id: string }[] };
    expect(mine.items).toHaveLength(10);
    // Deletes of a's copies racing uploads of the same bytes by b: the blob survives for b.
    const again = await Promise.all([
      ...mine.items.map((i) => a.app.request(`/v1/images/${i.id}`, { method: "DELETE" })),
      ...Array.from({ length: 5 }, () => upload(b.app, webp)),
    ]);
    expect(tally(again.map((r) => r.status))).toEqual({ 204: 10, 201: 5 });
    const theirs = (await (await b.app.request("/v1/images")).json()) as {
      items: { id: string }[];
    };
    expect(theirs.items).toHaveLength(15);
    const file = await b.app.request(`/v1/images/${theirs.items[0]?.id}/file`);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(webp);
  });

  test("10 identical transforms at once: all 201, one blob for their output", async () => {
    const c = ctx();
    const id = await uploaded(c.app, webp);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(c.app, `/v1/images/${id}/transform`, {
          operations: [{ op: "resize", width: 100 }],
          format: "png",
        }),
      ),
    );
    expect(tally(responses.map((r) => r.status))).toEqual({ 201: 10 });
    const [row] = await c.db.sql<{ images: number; blobs: number }[]>`
      SELECT count(*)::int AS images, count(DISTINCT sha256)::int AS blobs
      FROM images WHERE source_id = ${id}`;
    expect(row).toEqual({ images: 10, blobs: 1 });
  });

  test("transforms racing a delete of their source: only 201 or 404, nothing left behind", async () => {
    const c = ctx();
    await raceDelete(c, 10, [201, 404], (id, i) =>
      // AVIF encodes slowly: the others are still queued or encoding when the first answers.
      post(c.app, `/v1/images/${id}/transform`, {
        operations: [{ op: "resize", width: 50 + i }],
        format: i === 0 ? "webp" : "avif",
      }),
    );
  });

  test("segmentations racing a delete of their image: only 201 or 404, nothing left behind", async () => {
    const c = ctx();
    await raceDelete(c, 10, [201, 404], (id, i) =>
      post(c.app, `/v1/images/${id}/segmentations`, { method: "threshold", threshold: 60 + i }),
    );
  });

  test("renders, histograms and palettes racing a delete of their image: 200 or 404, nothing cached after", async () => {
    const c = ctx();
    await raceDelete(c, 12, [200, 404], (id, i) => {
      if (i % 3 === 0) return c.app.request(`/v1/images/${id}/render?w=${40 + i}`);
      if (i % 3 === 1) return c.app.request(`/v1/images/${id}/histogram?bins=${8 + i}`);
      return c.app.request(`/v1/images/${id}/palette?colors=${2 + i}`);
    });
  });
});
