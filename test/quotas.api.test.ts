import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase, type TestContext } from "./support/database.ts";
import { fixture, makePng } from "./support/fixtures.ts";

const webp = await fixture("generated/landscape-240.webp");
const png = makePng(8, 6, (x, y) => [x * 30, y * 40, 128, 255]);

function upload(app: App, files: Uint8Array<ArrayBuffer>[]) {
  const form = new FormData();
  files.forEach((bytes, i) => {
    form.append("file", new File([bytes], `f${i}`));
  });
  return app.request("/v1/images", { method: "POST", body: form });
}

async function state(c: TestContext, userId: string) {
  const [row] = await c.db.sql<{ images: number; blobs: number; bytes: string; count: number }[]>`
    SELECT (SELECT count(*)::int FROM images WHERE owner_id = ${userId}) AS images,
           (SELECT count(*)::int FROM blobs) AS blobs,
           u.bytes, u.images AS count
    FROM user_usage u WHERE u.user_id = ${userId}`;
  return { images: row?.images, blobs: row?.blobs, bytes: Number(row?.bytes), count: row?.count };
}

// Room for the WebP and the PNG, not for a second WebP.
const MAX_BYTES = webp.length + png.length + 100;

describeEachDatabase(
  "quotas",
  (ctx) => {
    test("an upload over the bytes quota is refused (413) with nothing stored; usage follows uploads and deletes", async () => {
      const c = ctx();
      const u = await c.createUser();
      const first = await upload(u.app, [webp]);
      expect(first.status).toBe(201);
      const firstId = ((await first.json()) as { images: { id: string }[] }).images[0]?.id;
      const before = await state(c, u.id);
      expect(before).toMatchObject({ images: 1, bytes: webp.length, count: 1 });

      const over = await upload(u.app, [webp]);
      expect(over.status).toBe(413);
      const problem = (await over.json()) as { detail: string; errors: { status: number }[] };
      expect(problem.detail).toBe(
        `Storing ${webp.length} more bytes would bring what you store to ${2 * webp.length} bytes; the quota (MAX_USER_BYTES) is ${MAX_BYTES}`,
      );
      expect(problem.errors).toEqual([expect.objectContaining({ index: 0, status: 413 })]);
      expect(await state(c, u.id)).toEqual(before);

      // In a batch, the file that does not fit is refused and the one that does is stored.
      const batch = await upload(u.app, [webp, png]);
      expect(batch.status).toBe(207);
      const result = (await batch.json()) as {
        images: unknown[];
        errors: { index: number; status: number }[];
      };
      expect(result.images).toHaveLength(1);
      expect(result.errors).toEqual([expect.objectContaining({ index: 0, status: 413 })]);
      expect(await state(c, u.id)).toMatchObject({
        images: 2,
        bytes: webp.length + png.length,
        count: 2,
      });

      const me = (await (await u.app.request("/v1/me")).json()) as { usage: unknown };
      expect(me.usage).toEqual({
        bytes: webp.length + png.length,
        images: 2,
        max_bytes: MAX_BYTES,
        max_images: 3,
      });

      // A derived image counts against its owner too.
      const derived = await u.app.request(`/v1/images/${firstId}/transform`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ format: "png" }),
      });
      expect(derived.status).toBe(413);
      expect(await state(c, u.id)).toMatchObject({ images: 2, count: 2 });

      expect((await u.app.request(`/v1/images/${firstId}`, { method: "DELETE" })).status).toBe(204);
      expect(await state(c, u.id)).toMatchObject({ images: 1, bytes: png.length, count: 1 });
      expect((await upload(u.app, [webp])).status).toBe(201);
      // Another user's quota is their own.
      const other = await c.createUser();
      expect((await upload(other.app, [webp])).status).toBe(201);
    });

    test("the image count quota refuses the next upload (403) with nothing stored", async () => {
      const c = ctx();
      const u = await c.createUser();
      expect((await upload(u.app, [png, png, png])).status).toBe(201);
      const before = await state(c, u.id);
      const res = await upload(u.app, [png]);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        type: "/problems/forbidden",
        detail: "You have 3 images; the quota (MAX_USER_IMAGES) is 3",
      });
      expect(await state(c, u.id)).toEqual(before);
    });

    test("concurrent uploads cannot both squeeze under a quota that has room for one", async () => {
      const c = ctx();
      const u = await c.createUser();
      expect((await upload(u.app, [png])).status).toBe(201);
      const statuses = (await Promise.all([upload(u.app, [webp]), upload(u.app, [webp])])).map(
        (r) => r.status,
      );
      expect(statuses.sort()).toEqual([201, 413]);
      expect(await state(c, u.id)).toMatchObject({ images: 2, bytes: png.length + webp.length });
    });
  },
  { maxUserBytes: MAX_BYTES, maxUserImages: 3 },
);

/**
 * The bytes stored for `userId`, summed from what is stored rather than from the accounting
 * columns: their images' blobs, the blobs of their images' cached renderings, their images'
 * segmentations (label map and regions) and cached analyses.
 */
async function storedBytes(c: TestContext, userId: string): Promise<number> {
  const [row] = await c.db.sql<{ bytes: string }[]>`
    WITH mine AS (SELECT id, sha256 FROM images WHERE owner_id = ${userId})
    SELECT (SELECT coalesce(sum(b.byte_size), 0) FROM mine JOIN blobs b USING (sha256))
         + (SELECT coalesce(sum(b.byte_size), 0)
            FROM render_cache r JOIN mine m ON m.id = r.image_id JOIN blobs b ON b.sha256 = r.sha256)
         + (SELECT coalesce(sum(octet_length(s.labels) + octet_length(s.regions::text)), 0)
            FROM segmentations s JOIN mine m ON m.id = s.image_id)
         + (SELECT coalesce(sum(octet_length(a.result::text)), 0)
            FROM analysis_cache a JOIN mine m ON m.id = a.image_id) AS bytes`;
  return Number(row?.bytes);
}

async function uploadedWebp(app: App): Promise<string> {
  const res = await upload(app, [webp]);
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

async function reportedBytes(app: App): Promise<number> {
  const me = (await (await app.request("/v1/me")).json()) as { usage: { bytes: number } };
  return me.usage.bytes;
}

// Room for the WebP (8 KB), an Otsu segmentation of it (21 KB), a histogram and a palette (4 KB)
// and a few WebP renderings (2–4 KB each).
const SMALL_QUOTA = webp.length + 50_000;

describeEachDatabase(
  "quotas count everything stored",
  (ctx) => {
    test("renders, segmentations and analyses count; past the quota they are refused (413); /v1/me matches what is stored", async () => {
      const c = ctx();
      const u = await c.createUser();
      const id = await uploadedWebp(u.app);

      const seg = await u.app.request(`/v1/images/${id}/segmentations`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ method: "otsu" }),
      });
      expect(seg.status).toBe(201);
      expect((await u.app.request(`/v1/images/${id}/histogram?bins=64`)).status).toBe(200);
      expect((await u.app.request(`/v1/images/${id}/palette?colors=8`)).status).toBe(200);
      const afterAnalyses = await storedBytes(c, u.id);
      expect(afterAnalyses).toBeGreaterThan(webp.length);
      expect(await reportedBytes(u.app)).toBe(afterAnalyses);

      // Renders of distinct widths until the quota refuses one.
      const statuses: number[] = [];
      let refused: Response | undefined;
      for (let w = 60; w <= 240 && !refused; w += 2) {
        const res = await u.app.request(`/v1/images/${id}/render?w=${w}&format=webp`);
        statuses.push(res.status);
        if (res.status !== 200) refused = res;
      }
      if (!refused) throw new Error("no render was refused");
      expect(refused.status).toBe(413);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(2);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      expect(((await refused.json()) as { detail: string }).detail).toMatch(
        new RegExp(
          `^Storing \\d+ more bytes would bring what you store to \\d+ bytes; the quota \\(MAX_USER_BYTES\\) is ${SMALL_QUOTA}$`,
        ),
      );
      const full = await storedBytes(c, u.id);
      expect(full).toBeLessThanOrEqual(SMALL_QUOTA);
      expect(await reportedBytes(u.app)).toBe(full);

      // A rendering stored already is served; anything new is refused, and nothing more stored.
      expect((await u.app.request(`/v1/images/${id}/render?w=60&format=webp`)).status).toBe(200);
      expect((await u.app.request(`/v1/images/${id}/histogram?bins=64`)).status).toBe(200);
      // Each larger than the room left, which is less than one small rendering.
      expect(SMALL_QUOTA - full).toBeLessThan(4000);
      const refusals = await Promise.all([
        u.app.request(`/v1/images/${id}/render?w=77&format=png`),
        u.app.request(`/v1/images/${id}/histogram?bins=256`),
        u.app.request(`/v1/images/${id}/segmentations`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ method: "threshold", threshold: 99 }),
        }),
        u.app.request(`/v1/images/${id}/transform`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ operations: [{ op: "resize", width: 90 }], format: "png" }),
        }),
      ]);
      expect(refusals.map((r) => r.status)).toEqual([413, 413, 413, 413]);
      const stored = await storedBytes(c, u.id);
      expect(stored).toBeLessThanOrEqual(SMALL_QUOTA);
      expect(await reportedBytes(u.app)).toBe(stored);

      // Deleting the image takes everything made from it, and its bytes from the usage.
      expect((await u.app.request(`/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
      expect(await storedBytes(c, u.id)).toBe(0);
      expect(await reportedBytes(u.app)).toBe(0);
    });

    test("concurrent renders cannot together go past the quota", async () => {
      const c = ctx();
      const u = await c.createUser();
      const id = await uploadedWebp(u.app);
      const responses = await Promise.all(
        // 15: within the test pool's queue; about twice the room they would take.
        Array.from({ length: 15 }, (_, i) =>
          u.app.request(`/v1/images/${id}/render?w=${180 + i}&format=webp`),
        ),
      );
      const statuses = new Set(responses.map((r) => r.status));
      expect(statuses).toEqual(new Set([200, 413]));
      const stored = await storedBytes(c, u.id);
      expect(stored).toBeLessThanOrEqual(SMALL_QUOTA);
      expect(await reportedBytes(u.app)).toBe(stored);
    });
  },
  { maxUserBytes: SMALL_QUOTA },
);

describeEachDatabase(
  "rate limits",
  (ctx) => {
    test("writes and compute reads over the budget get 429 with Retry-After; reads stay free; it recovers", async () => {
      const c = ctx();
      const u = await c.createUser();
      const missing = `/v1/images/${crypto.randomUUID()}`;
      for (let i = 0; i < 3; i++) {
        expect((await u.app.request(missing, { method: "DELETE" })).status).toBe(404);
      }
      const limited = await u.app.request(missing, { method: "DELETE" });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toMatch(/^[12]$/);
      expect(await limited.json()).toMatchObject({
        type: "/problems/too-many-requests",
        status: 429,
      });
      // A compute read counts; a plain read does not; another user has their own budget.
      expect((await u.app.request(`${missing}/render?w=10`)).status).toBe(429);
      expect((await u.app.request("/v1/images")).status).toBe(200);
      expect((await u.app.request("/v1/me")).status).toBe(200);
      const other = await c.createUser();
      expect((await other.app.request(missing, { method: "DELETE" })).status).toBe(404);

      c.clock.advance(Number(limited.headers.get("retry-after")) * 1000);
      expect((await u.app.request(missing, { method: "DELETE" })).status).toBe(404);
    });

    test("a user's API keys and login token share one budget", async () => {
      const c = ctx();
      const u = await c.createUser();
      // Made through the service: making them over HTTP would spend the budget under test.
      const principal = { userId: u.id, role: "user", via: "token", keyId: null } as const;
      const keys = await Promise.all(
        [0, 1, 2, 3].map(
          async (i) =>
            (await c.services.apiKeys.create(principal, { name: `key ${i}`, expiresAt: null })).key,
        ),
      );
      const missing = `/v1/images/${crypto.randomUUID()}`;
      const asKey = (key: string) =>
        c.rawApp.request(missing, { method: "DELETE", headers: { "X-API-Key": key } });
      // Round-robin over the 4 keys: 3 requests in all (the budget), not 3 per key.
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await asKey(keys[i % 4] as string)).status);
      expect(statuses).toEqual([404, 404, 404, 429, 429, 429, 429, 429]);
      expect((await u.app.request(missing, { method: "DELETE" })).status).toBe(429);
      // Another user's budget is their own.
      const other = await c.createUser();
      expect((await other.app.request(missing, { method: "DELETE" })).status).toBe(404);
    });

    test("signups and logins are limited per client address (behind a trusted proxy: its X-Forwarded-For entry)", async () => {
      const { rawApp: app } = ctx();
      const signup = (n: number, forwardedFor: string) =>
        app.request(
          "/v1/auth/signup",
          {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-Forwarded-For": forwardedFor },
            body: JSON.stringify({ email: `s${n}@example.com`, password: "a long passphrase" }),
          },
          { clientAddress: "10.0.0.2" }, // the proxy itself
        );
      // The last entry is the one the proxy added; what the client put before it does not count.
      expect((await signup(1, "198.51.100.7, 192.0.2.1")).status).toBe(201);
      expect((await signup(2, "203.0.113.5, 192.0.2.1")).status).toBe(201);
      const third = await signup(3, "192.0.2.1");
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(3500);
      expect((await signup(4, "192.0.2.2")).status).toBe(201);

      const login = (address: string) =>
        app.request(
          "/v1/auth/token",
          {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ email: "s1@example.com", password: "not the password" }),
          },
          { clientAddress: address },
        );
      for (let i = 0; i < 3; i++) expect((await login("198.51.100.1")).status).toBe(400);
      const limited = await login("198.51.100.1");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toMatch(/^[12]$/);
      expect((await login("198.51.100.2")).status).toBe(400);
    });
  },
  {},
  {
    auth: { trustProxy: true },
    rateLimits: { requests: 3, windowSeconds: 2, signups: 2, signupWindowSeconds: 3600 },
  },
);
