import { expect, test } from "bun:test";
import { createSignedUrlService } from "../src/features/signed-urls/index.ts";
import { createApp } from "../src/http/app.ts";
import type { App } from "../src/http/env.ts";
import { createJsonLogger } from "../src/platform/logger.ts";
import { JOB_LIMITS, seededPng, THUMBNAIL } from "./jobs/helpers.ts";
import { describeEachDatabase, type TestContext, type TestUser } from "./support/database.ts";

const PUBLIC_URL = "https://pictor.test";

const post = (body: unknown) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

async function upload(user: TestUser, seed: number): Promise<string> {
  const form = new FormData();
  form.append("file", new File([seededPng(seed, 96)], `photo-${seed}.png`));
  const res = await user.app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

/** POST /v1/signed-urls as `user`: the response and its body. */
async function sign(user: TestUser, path: string, expiresIn = 3600) {
  const res = await user.app.request("/v1/signed-urls", post({ path, expires_in: expiresIn }));
  return { res, body: (await res.json()) as { url: string; expires_at: string; detail?: string } };
}

/** The path and query of a signed URL, as the app (behind PUBLIC_URL) is asked for it. */
const local = (url: string) => {
  expect(url.startsWith(`${PUBLIC_URL}/v1/`)).toBe(true);
  return url.slice(PUBLIC_URL.length);
};

/** GET with no credential at all. */
const anonymous = (app: App, url: string, headers: Record<string, string> = {}) =>
  app.request(local(url), { headers });

async function signedUrl(user: TestUser, path: string, expiresIn = 3600): Promise<string> {
  const { res, body } = await sign(user, path, expiresIn);
  expect([path, res.status, body.detail]).toEqual([path, 201, undefined]);
  return body.url;
}

async function waitForJob(user: TestUser, id: string) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await Bun.sleep(25)) {
    const job = (await (await user.app.request(`/v1/jobs/${id}`)).json()) as {
      finished_at: string | null;
    };
    if (job.finished_at) return;
  }
  throw new Error(`job ${id} did not finish`);
}

/** The events of a finished job's stream (it ends after `done`): their ids and names. */
async function readEvents(res: Response): Promise<{ id: string; event: string }[]> {
  expect([res.status, res.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
  return (await res.text())
    .split("\n\n")
    .map((block) => Object.fromEntries(block.split("\n").map((l) => l.split(/: ?(.*)/s, 2))))
    .filter((fields) => fields.event)
    .map((fields) => ({ id: fields.id, event: fields.event }));
}

describeEachDatabase(
  "signed URLs",
  (ctx: () => TestContext) => {
    test("a signed render needs no credential: the authenticated render's bytes, public until it expires, no Vary on credentials", async () => {
      const { user, rawApp } = ctx();
      const id = await upload(user, 1);
      const path = `/v1/images/${id}/render?w=40&format=webp`;
      const authed = await user.app.request(path);
      expect(authed.status).toBe(200);
      const expected = new Uint8Array(await authed.arrayBuffer());

      const { res, body } = await sign(user, path, 3600);
      expect(res.status).toBe(201);
      expect(body.url).toMatch(
        new RegExp(
          `^${PUBLIC_URL}/v1/images/${id}/render\\?w=40&format=webp&expires=\\d+&kid=[\\w.-]+&by=${user.id}&sig=[\\w-]{43}$`,
        ),
      );
      expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(3590_000);

      const signed = await anonymous(rawApp, body.url);
      expect(signed.status).toBe(200);
      expect(new Uint8Array(await signed.arrayBuffer())).toEqual(expected);
      expect(signed.headers.get("content-type")).toBe("image/webp");
      const cacheControl = signed.headers.get("cache-control") ?? "";
      const maxAge = Number(/^public, max-age=(\d+)$/.exec(cacheControl)?.[1]);
      expect(maxAge).toBeGreaterThan(3590);
      expect(maxAge).toBeLessThanOrEqual(3600);
      expect(signed.headers.get("vary")).toBeNull();
      const etag = signed.headers.get("etag") as string;
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(etag).toBe(authed.headers.get("etag") as string);
      const notModified = await anonymous(rawApp, body.url, { "If-None-Match": etag });
      expect(notModified.status).toBe(304);
      // With a credential, the render stays private to it, as before.
      expect(authed.headers.get("vary")).toBe("Authorization, X-API-Key");

      // The query's order and encoding do not matter; its content does.
      const query = new URL(body.url).searchParams;
      const reordered = new URLSearchParams([...query].reverse());
      expect((await rawApp.request(`/v1/images/${id}/render?${reordered}`)).status).toBe(200);

      // A year at most, even for a URL signed for longer.
      const { url: long } = await ctx().services.signedUrls.sign(user.id, path, 3 * 365 * 86_400);
      expect((await anonymous(rawApp, long)).headers.get("cache-control")).toBe(
        "public, max-age=31536000",
      );
    });

    test("any changed character, an expired URL, an unknown key or a disabled signer: 403 saying which", async () => {
      const { user, rawApp, clock, createUser, db } = ctx();
      const id = await upload(user, 2);
      const url = await signedUrl(user, `/v1/images/${id}/render?w=30`, 60);
      expect((await anonymous(rawApp, url)).status).toBe(200);

      const refusal = async (changed: string) => {
        const res = await anonymous(rawApp, changed);
        const body = (await res.json()) as { detail: string; type: string };
        expect([changed, res.status, res.headers.get("content-type")]).toEqual([
          changed,
          403,
          "application/problem+json",
        ]);
        return body.detail;
      };
      const tampered = /tampered/;
      expect(await refusal(url.replace("w=30", "w=31"))).toMatch(tampered);
      expect(await refusal(url.replace("w=30", "w=30&h=30"))).toMatch(tampered);
      expect(
        await refusal(url.replace(/expires=(\d+)/, (_, n) => `expires=${Number(n) + 1}`)),
      ).toMatch(tampered);
      expect(
        await refusal(url.replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`)),
      ).toMatch(tampered);
      const other = await upload(user, 3);
      expect(await refusal(url.replace(id, other))).toMatch(tampered);
      const stranger = await createUser();
      expect(await refusal(url.replace(`by=${user.id}`, `by=${stranger.id}`))).toMatch(tampered);
      expect(await refusal(url.replace(/kid=[^&]+/, "kid=nope"))).toMatch(/unknown/);
      expect(await refusal(url.replace(/&sig=[^&]+/, "&sig="))).toMatch(tampered);
      expect(await refusal(url.replace(/&kid=[^&]+/, ""))).toMatch(/incomplete/);

      clock.advance(61_000);
      expect(await refusal(url)).toMatch(/expired/);
      clock.advance(-61_000);

      // A disabled signer's URLs stop working once the few seconds it is believed have passed.
      const signer = await createUser();
      const theirs = await upload(signer, 4);
      const theirUrl = await signedUrl(signer, `/v1/images/${theirs}/render?w=20`);
      expect((await anonymous(rawApp, theirUrl)).status).toBe(200);
      await db.sql`UPDATE users SET disabled_at = now() WHERE id = ${signer.id}`;
      clock.advance(6000);
      expect(await refusal(theirUrl)).toMatch(/signer can no longer grant access/);
      clock.advance(-6000);
    });

    test("signing checks access now: another user's resource is a 404; bad input is a 422 naming the field", async () => {
      const { user, createUser } = ctx();
      const id = await upload(user, 5);
      const stranger = await createUser();
      const theirs = await sign(stranger, `/v1/images/${id}/render?w=10`);
      expect([theirs.res.status, theirs.body.detail]).toEqual([404, `No image with id ${id}`]);
      const unknown = await sign(user, `/v1/jobs/${crypto.randomUUID()}/events`);
      expect(unknown.res.status).toBe(404);

      const refused = async (body: unknown, field: string, message: RegExp) => {
        const res = await user.app.request("/v1/signed-urls", post(body));
        const problem = (await res.json()) as { errors: { path: string; message: string }[] };
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 422]);
        expect(problem.errors.map((e) => e.path)).toContain(field);
        expect(problem.errors.map((e) => e.message).join("; ")).toMatch(message);
      };
      const render = `/v1/images/${id}/render`;
      await refused({ path: render, expires_in: 0 }, "json.expires_in", /between 1 and 31536000/);
      await refused(
        { path: render, expires_in: 31_536_001 },
        "json.expires_in",
        /between 1 and 31536000/,
      );
      await refused({ path: render, expires_in: 1.5 }, "json.expires_in", /integer/);
      await refused({ path: "/v1/api-keys", expires_in: 60 }, "json.path", /Expected one of/);
      await refused(
        { path: `//evil.example${render}`, expires_in: 60 },
        "json.path",
        /no scheme, host/,
      );
      await refused(
        { path: `https://evil.example${render}`, expires_in: 60 },
        "json.path",
        /no scheme/,
      );
      await refused({ path: `${render}?sig=x`, expires_in: 60 }, "json.path", /without sig/);
    });

    test("the render query is validated as for an authenticated call", async () => {
      const { user, rawApp } = ctx();
      const id = await upload(user, 6);
      const url = await signedUrl(user, `/v1/images/${id}/render?w=0`);
      const res = await anonymous(rawApp, url);
      const authed = await user.app.request(`/v1/images/${id}/render?w=0`);
      expect([res.status, authed.status]).toEqual([422, 422]);
      const detail = ((await res.json()) as { detail: string }).detail;
      expect(detail).toContain("Expected an integer between 1 and 16383 for w");
      expect(detail).toBe(((await authed.json()) as { detail: string }).detail);
      const typo = await signedUrl(user, `/v1/images/${id}/render?width=10`);
      expect((await anonymous(rawApp, typo)).status).toBe(422);
      // A signed URL is a GET: another method on it still needs a credential.
      const image = await signedUrl(user, `/v1/images/${id}`);
      expect((await anonymous(rawApp, image)).status).toBe(200);
      expect((await rawApp.request(local(image), { method: "DELETE" })).status).toBe(401);
    });

    test("the original, a histogram chart, a palette, a mask, a job, results.zip and its events: all without a credential", async () => {
      const { user, rawApp } = ctx();
      const id = await upload(user, 7);
      const seg = await user.app.request(
        `/v1/images/${id}/segmentations`,
        post({ method: "otsu" }),
      );
      expect(seg.status).toBe(201);
      const segmentation = ((await seg.json()) as { id: string }).id;
      const submitted = await user.app.request(
        "/v1/jobs",
        post({ image_ids: [id], task: THUMBNAIL }),
      );
      expect(submitted.status).toBe(202);
      const job = ((await submitted.json()) as { id: string }).id;
      await waitForJob(user, job);

      const expectations: [string, string][] = [
        [`/v1/images/${id}/file`, "image/png"],
        [`/v1/images/${id}/histogram?format=svg`, "image/svg+xml"],
        [`/v1/images/${id}/histogram`, "application/json"],
        [`/v1/images/${id}/palette?colors=4`, "application/json"],
        [`/v1/segmentations/${segmentation}/mask`, "image/png"],
        [`/v1/jobs/${job}`, "application/json"],
        [`/v1/jobs/${job}/results.zip`, "application/zip"],
        [`/v1/jobs/${job}/events`, "text/event-stream"],
      ];
      for (const [path, type] of expectations) {
        const authed = await user.app.request(path);
        const signed = await anonymous(rawApp, await signedUrl(user, path));
        expect([path, signed.status, signed.headers.get("content-type")?.split(";")[0]]).toEqual([
          path,
          200,
          type,
        ]);
        if (type !== "application/json" && type !== "text/event-stream") {
          expect(new Uint8Array(await signed.arrayBuffer())).toEqual(
            new Uint8Array(await authed.arrayBuffer()),
          );
        } else await authed.body?.cancel();
      }
      expect((await rawApp.request(`/v1/jobs/${job}/events`)).status).toBe(401);

      // EventSource's reconnection: the same URL with Last-Event-ID gets the events after it.
      const events = await signedUrl(user, `/v1/jobs/${job}/events`);
      const all = await readEvents(await anonymous(rawApp, events));
      expect(all.at(-1)?.event).toBe("done");
      expect(all.length).toBeGreaterThanOrEqual(2);
      const [first] = all;
      const resumed = await readEvents(
        await anonymous(rawApp, events, { "Last-Event-ID": first?.id as string }),
      );
      expect(resumed).toEqual(all.slice(1));
    });

    test("a key rotated out of URL_SIGNING_KEYS is refused; one still listed verifies", async () => {
      const { user, services, db } = ctx();
      const id = await upload(user, 8);
      const path = `/v1/images/${id}/render?w=24`;
      const keys = {
        old: { kid: "old", secret: "an old url signing secret of 32+ chars" },
        next: { kid: "next", secret: "the next url signing secret, 32+ chars" },
      };
      const appWith = (list: { kid: string; secret: string }[]) => {
        const signedUrls = createSignedUrlService({
          sql: db.sql,
          keys: list,
          publicUrl: PUBLIC_URL,
          maxTtlSeconds: 3600,
          logger: createJsonLogger("silent"),
        });
        return { signedUrls, app: createApp({ services: { ...services, signedUrls } }) };
      };
      const before = appWith([keys.old]);
      const { url } = await before.signedUrls.sign(user.id, path, 600);
      expect((await anonymous(before.app, url)).status).toBe(200);
      // Rotating: the new key first, the old one still listed.
      const during = appWith([keys.next, keys.old]);
      expect((await anonymous(during.app, url)).status).toBe(200);
      const { url: fresh } = await during.signedUrls.sign(user.id, path, 600);
      expect(new URL(fresh).searchParams.get("kid")).toBe("next");
      // Rotated out.
      const after = appWith([keys.next]);
      const refused = await anonymous(after.app, url);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(
        /key \(kid old\) is unknown/,
      );
      expect((await anonymous(after.app, fresh)).status).toBe(200);
      // The same secret under another service: the generated key of this database does not sign
      // these, and these do not verify there.
      expect((await anonymous(ctx().rawApp, fresh)).status).toBe(403);
    });

    test("the job email's links (the job, its items, results.zip once) open with no credential", async () => {
      const { user, rawApp, db } = ctx();
      const id = await upload(user, 9);
      const submitted = await user.app.request(
        "/v1/jobs",
        post({ image_ids: [id], task: THUMBNAIL, notify: "always" }),
      );
      const job = ((await submitted.json()) as { id: string }).id;
      await waitForJob(user, job);
      let text = "";
      for (const deadline = Date.now() + 30_000; !text && Date.now() < deadline; ) {
        const [row] = await db.sql<{ text_body: string }[]>`
          SELECT o.text_body FROM email_outbox o JOIN notifications n ON n.id = o.notification_id
          WHERE n.job_id = ${job}`;
        if (row) text = row.text_body;
        else await Bun.sleep(25);
      }
      const links = text.match(/https:\/\/pictor\.test\/\S+/g) ?? [];
      expect(links.filter((l) => l.includes("/results.zip"))).toHaveLength(1);
      expect(links.map((l) => new URL(l).pathname).sort()).toEqual(
        [`/v1/jobs/${job}`, `/v1/jobs/${job}/results.zip`].sort(),
      );
      for (const link of links) {
        const url = new URL(link);
        expect(Number(url.searchParams.get("expires")) * 1000 - Date.now()).toBeGreaterThan(
          7 * 86_400_000 - 120_000,
        );
        const res = await anonymous(rawApp, link);
        expect([link, res.status]).toEqual([link, 200]);
        await res.body?.cancel();
      }
    });
  },
  JOB_LIMITS,
  { start: true, rateLimits: { requests: 0 } },
);
