import { expect, test } from "bun:test";
import { describeEachDatabase } from "./support/database.ts";
import { fixture, noisePng } from "./support/fixtures.ts";

/**
 * Walks every operation of /openapi.json with malformed path parameters, query values, bodies
 * and content types: each answer must be a 4xx problem+json document whose status the operation
 * declares. A route added later is walked without touching this file.
 */

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
};
type Spec = { paths: Record<string, Record<string, Operation>> };

const UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";
const BAD_IDS = ["nope", UNKNOWN_ID, "%E0%A4%A", "%00", "x".repeat(5000), `${UNKNOWN_ID}%20`];
const BAD_QUERY_VALUES = [
  "",
  "abc",
  "-1",
  "0",
  "1.5",
  "1e3",
  "9".repeat(24),
  "NaN",
  "%00",
  "%E0%A4%A",
];
const BAD_BODIES: [contentType: string | undefined, body: string | undefined][] = [
  ["application/json", "{"],
  ["application/json", ""],
  ["application/json", "null"],
  ["application/json", "[]"],
  ["application/json", '"x"'],
  ["application/json", "{}"],
  ["application/json", '{"__proto__":{"admin":true}}'],
  ["application/json; charset=utf-8", '{"x":1}'],
  ["text/plain", '{"format":"png"}'],
  ["application/xml", "<a/>"],
  ["multipart/form-data", "--x--"],
  ["multipart/form-data; boundary=x", "garbage"],
  [
    "multipart/form-data; boundary=x",
    '--x\r\nContent-Disposition: form-data; name="task"\r\n\r\n{\r\n--x--\r\n',
  ],
  [
    "multipart/form-data; boundary=x",
    '--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--x--\r\n',
  ],
  ["multipart/form-data; boundary=x", "--x--\r\n"],
  ["application/x-www-form-urlencoded", "a=b"],
  ["application/x-www-form-urlencoded", "%zz=%"],
  [undefined, '{"a":1}'],
  [undefined, undefined],
];

describeEachDatabase(
  "malformed input on every operation",
  (ctx) => {
    test("is answered by a declared 4xx problem, never a 500", async () => {
      const c = ctx();
      const admin = await c.createUser({ role: "admin" });
      const form = new FormData();
      form.append("file", new File([await fixture("generated/landscape-240.webp")], "a.webp"));
      const uploaded = await c.app.request("/v1/images", { method: "POST", body: form });
      const imageId = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id;
      const post = (url: string, body: unknown) =>
        c.app.request(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      const seg = await post(`/v1/images/${imageId}/segmentations`, { method: "otsu" });
      const job = await post("/v1/jobs", { image_ids: [imageId], task: { histogram: {} } });
      // The ids of real resources, so that query and body checks get past the 404.
      const ids: Record<string, string | undefined> = {
        images: imageId,
        segmentations: ((await seg.json()) as { id: string }).id,
        jobs: ((await job.json()) as { id: string }).id,
        "admin/users": c.user.id,
      };
      const fill = (path: string, value?: string) =>
        path.replace(
          /\{\w+\}/g,
          (_param, at: number) => value ?? ids[path.slice(4, at - 1)] ?? UNKNOWN_ID,
        );

      const spec = (await (await c.app.request("/openapi.json")).json()) as Spec;
      const failures: string[] = [];
      let sent = 0;
      const send = async (
        method: string,
        path: string,
        op: Operation,
        url: string,
        init: RequestInit = {},
      ) => {
        const app = path.startsWith("/v1/admin/") ? admin.app : c.app;
        const res = await app.request(url, { method: method.toUpperCase(), ...init });
        sent++;
        const what = `${method.toUpperCase()} ${url.slice(0, 100)} (${String(init.body ?? "").slice(0, 30)})`;
        if (res.status < 400) {
          await res.body?.cancel();
          return;
        }
        const text = await res.text();
        if (res.status >= 500) failures.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
        if (res.headers.get("content-type") !== "application/problem+json") {
          failures.push(`${what}: ${res.status} as ${res.headers.get("content-type")}`);
        } else if ((JSON.parse(text) as { status: number }).status !== res.status) {
          failures.push(`${what}: problem status differs from ${res.status}`);
        }
        if (!(String(res.status) in op.responses)) {
          failures.push(`${what}: ${res.status} is not declared: ${text.slice(0, 200)}`);
        }
      };

      for (const [path, ops] of Object.entries(spec.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          // An event stream of a real job stays open; its bad ids and header are checked below.
          const streams = path.endsWith("/events");
          if (path.includes("{")) {
            for (const id of BAD_IDS) await send(method, path, op, fill(path, id));
          }
          if (streams) continue;
          for (const param of (op.parameters ?? []).filter((p) => p.in === "query")) {
            for (const value of BAD_QUERY_VALUES) {
              await send(method, path, op, `${fill(path)}?${param.name}=${value}`);
            }
            await send(method, path, op, `${fill(path)}?${param.name}=1&${param.name}=2`);
          }
          if (op.requestBody) {
            for (const [type, body] of BAD_BODIES) {
              await send(method, path, op, fill(path), {
                headers: type ? { "Content-Type": type } : {},
                body,
              });
            }
          }
          if (method === "get") {
            const oddHeaders: Record<string, string>[] = [
              { "If-None-Match": '"' },
              { Accept: "image/*;q=abc" },
            ];
            for (const headers of oddHeaders) {
              await send(method, path, op, fill(path), { headers });
            }
          }
        }
      }
      const events = spec.paths["/v1/jobs/{id}/events"]?.get as Operation;
      await send("get", "/v1/jobs/{id}/events", events, fill("/v1/jobs/{id}/events"), {
        headers: { "Last-Event-ID": "-5" },
      });
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(700);
    }, 120_000);

    test("a body parsed whole is bounded at 1 MiB (413), even before login; uploads stream past it", async () => {
      const { rawApp, app } = ctx();
      const big = JSON.stringify({ email: "a@example.com", password: "x".repeat(1024 * 1024) });
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      });
      for (const [url, init] of [
        ["/v1/auth/signup", { body: big }],
        ["/v1/auth/token", { body: chunked, duplex: "half" }],
        ["/v1/jobs", { body: big }],
      ] as const) {
        const res = await (url === "/v1/jobs" ? app : rawApp).request(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          ...init,
        });
        expect(res.status).toBe(413);
        expect(await res.json()).toMatchObject({
          type: "/problems/payload-too-large",
          detail: "Expected a request body of at most 1048576 bytes",
        });
      }
      // A 2 MiB upload is a streamed multipart body: not held to that bound.
      const form = new FormData();
      form.append("file", new File([noisePng(2 * 1024 * 1024)], "noise.png"));
      const upload = await app.request("/v1/images", { method: "POST", body: form });
      expect(upload.status).toBe(201);
      expect(
        ((await upload.json()) as { images: { byte_size: number }[] }).images[0]?.byte_size,
      ).toBeGreaterThan(2 * 1024 * 1024);
    });

    test("a body of a type the operation does not take is a 415 naming that type and what to send", async () => {
      const res = await ctx().app.request("/v1/api-keys", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: '{"name":"k"}',
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({
        detail: "This operation does not take `text/plain`: send `Content-Type: application/json`",
      });
    });

    test("405 with Allow only for another method on a served path; a trailing slash is a 404", async () => {
      const { app } = ctx();
      const put = await app.request(`/v1/segmentations/${UNKNOWN_ID}`, { method: "PUT" });
      expect(put.status).toBe(405);
      expect(put.headers.get("allow")).toBe("GET, DELETE");
      const slash = await app.request("/v1/images/");
      expect(slash.status).toBe(404);
      expect(slash.headers.get("allow")).toBeNull();
      // The dot of results.zip is not a wildcard.
      expect((await app.request(`/v1/jobs/${UNKNOWN_ID}/results-zip`)).status).toBe(404);
    });
  },
  {},
  // The walk sends about a thousand requests: more than the default budget allows in a minute.
  { rateLimits: { requests: 0 } },
);
