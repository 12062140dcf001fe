import { expect, test } from "bun:test";
import { seededPng } from "./jobs/helpers.ts";
import { describeEachDatabase, type TestUser } from "./support/database.ts";

async function upload(user: TestUser, seed: number): Promise<string> {
  const form = new FormData();
  form.append("file", new File([seededPng(seed, 80)], `hot-${seed}.png`));
  const res = await user.app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

describeEachDatabase("the memory cache of hits", (ctx) => {
  test("a render hit is answered from memory, before Postgres: its rows gone, the bytes still come, with ETag and 304", async () => {
    const { user, db, createUser } = ctx();
    const id = await upload(user, 1);
    const path = `/v1/images/${id}/render?w=50&format=png`;
    const first = await user.app.request(path);
    expect(first.headers.get("x-render-cache")).toBe("miss");
    const bytes = new Uint8Array(await first.arrayBuffer());
    // Only memory can answer now.
    await db.sql`DELETE FROM render_cache WHERE image_id = ${id}`;
    const hot = await user.app.request(path);
    expect([hot.status, hot.headers.get("x-render-cache")]).toEqual([200, "hit"]);
    expect(new Uint8Array(await hot.arrayBuffer())).toEqual(bytes);
    const etag = first.headers.get("etag") as string;
    expect(hot.headers.get("etag")).toBe(etag);
    const unchanged = await user.app.request(path, { headers: { "If-None-Match": etag } });
    expect(unchanged.status).toBe(304);
    // Memory answers only those who may read the image.
    const stranger = await createUser();
    expect((await stranger.app.request(path)).status).toBe(404);

    // A hit read from Postgres is kept too.
    const other = `/v1/images/${id}/render?w=20&format=png`;
    await user.app.request(other);
    await db.sql`DELETE FROM render_cache WHERE image_id = ${id}`;
    expect((await user.app.request(other)).headers.get("x-render-cache")).toBe("hit");
  });

  test("an analysis hit too: a palette and a histogram whose rows are gone, with ETag and 304", async () => {
    const { user, db, createUser } = ctx();
    const id = await upload(user, 2);
    const palette = `/v1/images/${id}/palette?colors=3`;
    const histogram = `/v1/images/${id}/histogram?bins=8`;
    const firsts = [await user.app.request(palette), await user.app.request(histogram)];
    const bodies = await Promise.all(firsts.map((r) => r.json()));
    await db.sql`DELETE FROM analysis_cache WHERE image_id = ${id}`;
    for (const [i, path] of [palette, histogram].entries()) {
      const res = await user.app.request(path);
      expect([path, res.status, res.headers.get("x-analysis-cache")]).toEqual([path, 200, "hit"]);
      const etag = res.headers.get("etag") as string;
      expect([etag, res.headers.get("content-type")]).toEqual([
        firsts[i]?.headers.get("etag") as string,
        "application/json",
      ]);
      expect(await res.json()).toEqual(bodies[i]);
      const unchanged = await user.app.request(path, { headers: { "If-None-Match": etag } });
      expect([path, unchanged.status]).toEqual([path, 304]);
    }
    expect((await (await createUser()).app.request(palette)).status).toBe(404);
  });

  test("deleting the image makes its renderings and analyses unavailable at once", async () => {
    const { user } = ctx();
    const id = await upload(user, 3);
    const paths = [`/v1/images/${id}/render?w=30`, `/v1/images/${id}/palette?colors=2`];
    for (const path of paths) {
      await user.app.request(path);
      expect((await user.app.request(path)).status).toBe(200);
    }
    expect((await user.app.request(`/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
    for (const path of paths) expect((await user.app.request(path)).status).toBe(404);
  });
});

describeEachDatabase(
  "MEMORY_CACHE_BYTES=0",
  (ctx) => {
    test("nothing is kept in memory: every hit is read from Postgres", async () => {
      const { user, db } = ctx();
      const id = await upload(user, 4);
      const path = `/v1/images/${id}/render?w=40`;
      await user.app.request(path);
      expect((await user.app.request(path)).headers.get("x-render-cache")).toBe("hit");
      await db.sql`DELETE FROM render_cache WHERE image_id = ${id}`;
      expect((await user.app.request(path)).headers.get("x-render-cache")).toBe("miss");
    });
  },
  {},
  { delivery: { memoryCacheBytes: 0 } },
);
