import { expect, test } from "bun:test";
import { describeEachDatabase } from "./support/database.ts";

const ORIGIN = "https://app.example";

describeEachDatabase(
  "CORS with CORS_ORIGINS=https://app.example",
  (ctx) => {
    test("a preflight from the origin is answered 204 with the methods and headers, before authentication", async () => {
      const res = await ctx().rawApp.request("/v1/images", {
        method: "OPTIONS",
        headers: {
          Origin: ORIGIN,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type",
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(res.headers.get("access-control-allow-methods")?.split(",")).toEqual(
        expect.arrayContaining(["GET", "POST", "PATCH", "DELETE"]),
      );
      expect(res.headers.get("access-control-allow-headers")?.split(",")).toEqual([
        "Authorization",
        "X-API-Key",
        "Content-Type",
        "Last-Event-ID",
        "If-None-Match",
      ]);
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      expect(res.headers.get("vary")).toContain("Origin");
    });

    test("an answer to the origin exposes ETag, Location, Retry-After, X-Request-Id, X-Render-Cache", async () => {
      const { user, app } = ctx();
      const res = await app.request("/v1/me", { headers: { Origin: ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(res.headers.get("access-control-expose-headers")?.split(",")).toEqual([
        "ETag",
        "Location",
        "Retry-After",
        "X-Request-Id",
        "X-Render-Cache",
      ]);
      expect(((await res.json()) as { id: string }).id).toBe(user.id);
      // Errors too: a page must be able to read why it was refused.
      const refused = await ctx().rawApp.request("/v1/me", { headers: { Origin: ORIGIN } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    });

    test("another origin gets no CORS header at all, preflight or not", async () => {
      const preflight = await ctx().rawApp.request("/v1/images", {
        method: "OPTIONS",
        headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
      });
      expect(preflight.status).not.toBe(204);
      const plain = await ctx().app.request("/v1/me", {
        headers: { Origin: "https://app.example.evil.example" },
      });
      for (const res of [preflight, plain]) {
        expect([...res.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
      }
    });
  },
  {},
  { delivery: { corsOrigins: [ORIGIN] } },
);

describeEachDatabase("CORS without CORS_ORIGINS", (ctx) => {
  test("no CORS header, whatever the origin", async () => {
    const res = await ctx().app.request("/v1/me", { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect([...res.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
  });
});
