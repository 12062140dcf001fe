import { expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describeEachDatabase } from "./support/database.ts";

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };
type Spec = { openapi: string; paths: Record<string, Record<string, Operation>> };

describeEachDatabase("OpenAPI document and docs", (ctx) => {
  test("/openapi.json is a valid OpenAPI 3.1 document", async () => {
    const res = await ctx().app.request("/openapi.json");
    expect(res.status).toBe(200);
    const spec = (await res.json()) as Spec;
    expect(spec.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(
      spec as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  test("every route is documented, with its error responses as problem+json", async () => {
    const { app } = ctx();
    const spec = (await (await app.request("/openapi.json")).json()) as Spec;
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
    );
    // Every operation the app serves: under /v1 and the health checks (the document, the docs,
    // the icon and the web app's pages and assets are not API operations).
    const served = app.routes
      .filter(
        (r) =>
          r.method !== "ALL" &&
          (r.path.startsWith("/v1/") || ["/healthz", "/readyz"].includes(r.path)),
      )
      .map((r) => `${r.method} ${r.path}`);
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
    expect(documented.length).toBeGreaterThan(30);
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses);
        if (path !== "/healthz")
          expect([method, path, statuses]).toEqual([method, path, expect.arrayContaining(["500"])]);
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          expect([method, path, status, Object.keys(op.responses[status]?.content ?? {})]).toEqual([
            method,
            path,
            status,
            ["application/problem+json"],
          ]);
        }
      }
    }
  });

  test("/docs serves Swagger UI pointed at /openapi.json", async () => {
    const res = await ctx().app.request("/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("SwaggerUIBundle");
    expect(html).toContain("/openapi.json");
  });

  test("/healthz answers without I/O and /readyz checks the database", async () => {
    const { app } = ctx();
    expect(await (await app.request("/healthz")).json()).toEqual({ status: "ok" });
    expect((await app.request("/readyz")).status).toBe(200);
  });
});
