import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { RESOURCE_CSP } from "../src/http/security-headers.ts";
import { describeEachDatabase } from "./support/database.ts";
import { makePng } from "./support/fixtures.ts";

function expectLockedDown(path: string, res: Response, type: string | RegExp) {
  expect([path, res.headers.get("content-type")]).toEqual([path, expect.stringMatching(type)]);
  expect([path, res.headers.get("x-content-type-options")]).toEqual([path, "nosniff"]);
  expect([path, res.headers.get("content-security-policy")]).toEqual([path, RESOURCE_CSP]);
}

async function uploadPng(app: App): Promise<string> {
  const form = new FormData();
  form.append("file", new File([makePng(24, 16, (x, y) => [x * 10, y * 15, 90, 255])], "h.png"));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

describeEachDatabase("security headers", (ctx) => {
  test("/file, renders, SVG and PNG charts and masks: nosniff and a policy that loads and runs nothing", async () => {
    const { app } = ctx();
    const id = await uploadPng(app);
    const seg = await app.request(`/v1/images/${id}/segmentations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: "threshold", threshold: 128 }),
    });
    expect(seg.status).toBe(201);
    const segId = ((await seg.json()) as { id: string }).id;
    const images: [string, RegExp][] = [
      [`/v1/images/${id}/file`, /^image\/png$/],
      [`/v1/images/${id}/render?w=12&format=webp`, /^image\/webp$/],
      [`/v1/images/${id}/render?w=12&format=jpeg`, /^image\/jpeg$/],
      [`/v1/images/${id}/histogram?format=svg`, /^image\/svg\+xml/],
      [`/v1/images/${id}/histogram?format=png`, /^image\/png$/],
      [`/v1/segmentations/${segId}/mask`, /^image\/png$/],
      [`/v1/segmentations/${segId}/mask?region=1`, /^image\/png$/],
    ];
    for (const [path, type] of images) {
      const res = await app.request(path);
      expect([path, res.status]).toEqual([path, 200]);
      expectLockedDown(path, res, type);
      await res.arrayBuffer();
    }
    // A revalidation answers with the same headers.
    const file = await app.request(`/v1/images/${id}/file`);
    const etag = file.headers.get("etag") as string;
    const notModified = await app.request(`/v1/images/${id}/file`, {
      headers: { "If-None-Match": etag },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("JSON, errors of every origin and health: nosniff and the same policy", async () => {
    const { app, rawApp } = ctx();
    const cases: [string, Response | Promise<Response>, number][] = [
      ["json", app.request("/v1/me"), 200],
      ["health", rawApp.request("/healthz"), 200],
      ["401", rawApp.request("/v1/me"), 401],
      ["404 route", app.request("/v1/nothing-here"), 404],
      ["404 image", app.request(`/v1/images/${crypto.randomUUID()}/file`), 404],
      ["405", app.request("/v1/me", { method: "PUT" }), 405],
      ["422", app.request("/v1/images?limit=0"), 422],
      ["431", app.request("/v1/me", { headers: { "X-Big": "a".repeat(20_000) } }), 431],
      [
        "413",
        rawApp.request("/v1/auth/signup", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Content-Length": String(2 ** 31) },
          body: "{}",
        }),
        413,
      ],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      expect([name, res.status]).toEqual([name, status]);
      expectLockedDown(
        name,
        res,
        status < 400 ? /^application\/json/ : /^application\/problem\+json$/,
      );
    }
  });

  test("/docs: a policy that allows its own assets and its inline bootstrap by hash, never 'unsafe-inline' scripts", async () => {
    const res = await ctx().app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const policy = res.headers.get("content-security-policy") as string;
    const directives = new Map(
      policy.split(/;\s*/).map((d) => {
        const [name, ...values] = d.split(" ");
        return [name as string, values];
      }),
    );
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    const scripts = directives.get("script-src") ?? [];
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(scripts).not.toContain("'unsafe-eval'");
    // No readDocsAsset here: the assets come from the CDN, the only other origin allowed.
    expect(scripts[0]).toBe("https://cdn.jsdelivr.net");
    // Each inline script of the page is allowed by its own hash, and nothing else is.
    const html = await res.text();
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    expect(inline).toHaveLength(1);
    expect(inline[0]).toContain("SwaggerUIBundle");
    const digest = new Bun.CryptoHasher("sha256").update(inline[0] as string).digest("base64");
    expect(scripts.slice(1)).toEqual([`'sha256-${digest}'`]);
  });
});
