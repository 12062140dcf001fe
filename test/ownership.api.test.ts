import { expect, test } from "bun:test";
import { routeFlagTable } from "../src/http/route-flags.ts";
import { describeEachDatabase, TEST_PASSWORD, type TestUser } from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";

/**
 * Walks every operation of /openapi.json, so that a route added later is covered without
 * touching this file, unless it brings a path parameter or a body this file cannot fill: then
 * the test fails and says what to add.
 */

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
};
type Spec = { paths: Record<string, Record<string, Operation>> };

/** The resources of user A that requests point at. */
type Fixtures = {
  a: TestUser;
  imageId: string;
  segmentationId: string;
  apiKeyId: string;
  jobId: string;
  webhookId: string;
};

/** Operations whose body (from BODIES) names one of A's resources: B gets its 404 too. */
const NAMES_A_IN_BODY = ["POST /v1/signed-urls"];

/** Operations that need no credential. */
const PUBLIC = ["GET /healthz", "GET /readyz", "POST /v1/auth/signup", "POST /v1/auth/token"];

/**
 * Each path parameter, by the path up to and including it: the id of A's resource of that kind.
 * A new resource with an id in its path gets a line here.
 */
const PATH_PARAMS: Record<string, (f: Fixtures) => string> = {
  "/v1/images/{id}": (f) => f.imageId,
  "/v1/segmentations/{id}": (f) => f.segmentationId,
  "/v1/api-keys/{id}": (f) => f.apiKeyId,
  "/v1/admin/users/{id}": (f) => f.a.id,
  "/v1/jobs/{id}": (f) => f.jobId,
  "/v1/webhooks/{id}": (f) => f.webhookId,
};

const json = (body: unknown) => ({ type: "json" as const, body });

/** A valid body for each operation that takes one, so that what is checked is access, not input. */
const BODIES: Record<string, (f: Fixtures) => { type: "json"; body: unknown } | FormData> = {
  "POST /v1/auth/signup": () =>
    json({ email: `walk-${crypto.randomUUID()}@example.com`, password: "a long passphrase" }),
  "POST /v1/auth/token": (f) => json({ email: f.a.email, password: TEST_PASSWORD }),
  // A wrong current password: the walk must not change anyone's password.
  "POST /v1/me/password": () =>
    json({ current_password: "not the current one", new_password: "another long passphrase" }),
  "POST /v1/api-keys": () => json({ name: "walk" }),
  "PATCH /v1/admin/users/{id}": () => json({ disabled: false }),
  "POST /v1/images": () => {
    const form = new FormData();
    form.append("file", new File([webp], "walk.webp"));
    return form;
  },
  "POST /v1/images/{id}/transform": () => json({ format: "png" }),
  "POST /v1/images/{id}/segmentations": () => json({ method: "otsu" }),
  "POST /v1/jobs": (f) => json({ image_ids: [f.imageId], task: { histogram: { bins: 16 } } }),
  "PATCH /v1/me/notifications": () => json({ email: "failure" }),
  // A public address literal: accepted without asking DNS (the tests run offline).
  "POST /v1/webhooks": () => json({ url: "https://93.184.215.14/walk" }),
  "POST /v1/signed-urls": (f) => json({ path: `/v1/images/${f.imageId}/render`, expires_in: 60 }),
};

const webp = await fixture("generated/landscape-240.webp");

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

function fillPath(path: string, f: Fixtures): string {
  return path.replace(/\{(\w+)\}/g, (param, name, at: number) => {
    const prefix = path.slice(0, at + param.length);
    const value = PATH_PARAMS[prefix];
    if (!value) {
      throw new Error(
        `No value for path parameter {${name}} of ${path}: add "${prefix}" to PATH_PARAMS in test/ownership.api.test.ts`,
      );
    }
    return value(f);
  });
}

function buildRequest(
  method: string,
  path: string,
  op: Operation,
  f: Fixtures,
  headers: Record<string, string>,
) {
  const required = (op.parameters ?? []).filter((p) => p.required && p.in !== "path");
  if (required.length > 0) {
    throw new Error(
      `${key(method, path)} has required ${required.map((p) => p.name)}: teach the walk to fill them`,
    );
  }
  const init: RequestInit & { headers: Record<string, string> } = {
    method: method.toUpperCase(),
    headers: { ...headers },
  };
  if (op.requestBody) {
    const body = BODIES[key(method, path)];
    if (!body) {
      throw new Error(
        `No body for ${key(method, path)}: add one to BODIES in test/ownership.api.test.ts`,
      );
    }
    const made = body(f);
    if (made instanceof FormData) init.body = made;
    else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(made.body);
    }
  }
  return { url: fillPath(path, f), init };
}

const hasPathParams = (path: string) => path.includes("{");
const isAdminRoute = (path: string) => path.startsWith("/v1/admin/");
const isPersonal = (path: string) =>
  path.startsWith("/v1/api-keys") || path.startsWith("/v1/webhooks");

describeEachDatabase("every operation: authentication and ownership", (ctx) => {
  async function setUp() {
    const c = ctx();
    const a = await c.createUser();
    const b = await c.createUser();
    const admin = await c.createUser({ role: "admin" });
    const form = new FormData();
    form.append("file", new File([webp], "a.webp"));
    const uploaded = await a.app.request("/v1/images", { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    const imageId = ((await uploaded.json()) as { images: { id: string }[] }).images[0]
      ?.id as string;
    const seg = await a.app.request(`/v1/images/${imageId}/segmentations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: "otsu" }),
    });
    expect(seg.status).toBe(201);
    const segmentationId = ((await seg.json()) as { id: string }).id;
    const keyRes = await a.app.request("/v1/api-keys", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "a's key" }),
    });
    const apiKeyId = ((await keyRes.json()) as { id: string }).id;
    const jobRes = await a.app.request("/v1/jobs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image_ids: [imageId], task: { histogram: { bins: 16 } } }),
    });
    expect(jobRes.status).toBe(202);
    const jobId = ((await jobRes.json()) as { id: string }).id;
    const hookRes = await a.app.request("/v1/webhooks", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: "https://93.184.215.14/a" }),
    });
    expect(hookRes.status).toBe(201);
    const webhookId = ((await hookRes.json()) as { id: string }).id;
    const spec = (await (await c.rawApp.request("/openapi.json")).json()) as Spec;
    const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method, path, op })),
    );
    return {
      c,
      a,
      b,
      admin,
      operations,
      fixtures: { a, imageId, segmentationId, apiKeyId, jobId, webhookId },
    };
  }

  test("the public operations are exactly the documented list, in the spec and in the middleware", async () => {
    const { operations } = await setUp();
    const declaredPublic = operations
      .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
      .map(({ method, path }) => key(method, path));
    expect(declaredPublic.sort()).toEqual([...PUBLIC].sort());
    // The middleware reads the same declaration: its table of public routes is the list too.
    const middlewarePublic = [...routeFlagTable(ctx().rawApp)]
      .filter(([, flags]) => flags.public)
      .map(([route]) => route);
    expect(middlewarePublic.sort()).toEqual([...PUBLIC].sort());
    for (const { method, path, op } of operations) {
      if (PUBLIC.includes(key(method, path))) continue;
      expect([key(method, path), op.security]).toEqual([
        key(method, path),
        [{ oauth2: [] }, { bearer: [] }, { apiKey: [] }],
      ]);
    }
    expect(operations.length).toBeGreaterThan(20);
  });

  test("without credentials every operation but the public ones is 401; B gets 404 on A's ids; A and admins get through", async () => {
    const { c, b, admin, operations, fixtures } = await setUp();
    const failures: string[] = [];
    const check = (what: string, status: number, ok: (s: number) => boolean) => {
      if (!ok(status)) failures.push(`${what}: ${status}`);
    };
    const send = async (
      method: string,
      path: string,
      op: Operation,
      headers: Record<string, string>,
    ) => {
      const { url, init } = buildRequest(method, path, op, fixtures, headers);
      const res = await c.rawApp.request(url, init);
      // Only the status matters here; an event stream would otherwise stay open.
      await res.body?.cancel();
      return res;
    };
    const deletes: typeof operations = [];

    for (const { method, path, op } of operations) {
      const name = key(method, path);
      // 1. No credential.
      const anonymous = await send(method, path, op, {});
      if (PUBLIC.includes(name)) {
        check(`${name} without credentials`, anonymous.status, (s) => s < 400);
        continue;
      }
      check(`${name} without credentials`, anonymous.status, (s) => s === 401);
      if (anonymous.headers.get("www-authenticate") !== 'Bearer realm="pictor"') {
        failures.push(`${name} without credentials: no WWW-Authenticate`);
      }
      // 2. User B on A's resources.
      const asB = await send(method, path, op, { Authorization: `Bearer ${b.token}` });
      if (isAdminRoute(path)) check(`${name} as B (not admin)`, asB.status, (s) => s === 403);
      else if (hasPathParams(path) || NAMES_A_IN_BODY.includes(name)) {
        check(`${name} as B on A's id`, asB.status, (s) => s === 404);
      } else check(`${name} as B`, asB.status, (s) => s !== 401 && s !== 404);
      // 3. The owner (or, on admin routes, an admin) gets through: B's 404 was about ownership.
      if (!hasPathParams(path)) continue;
      if (method === "delete") {
        deletes.push({ method, path, op });
        continue;
      }
      const control = await send(method, path, op, {
        Authorization: `Bearer ${isAdminRoute(path) ? admin.token : fixtures.a.token}`,
      });
      check(`${name} as its owner`, control.status, (s) => s < 400);
      // Admins read every user's images, segmentations and jobs; keys and webhooks are personal.
      if (method === "get" && !isAdminRoute(path) && !isPersonal(path)) {
        const asAdmin = await send(method, path, op, { Authorization: `Bearer ${admin.token}` });
        check(`${name} as an admin`, asAdmin.status, (s) => s < 400);
      }
    }

    // B's listings hold none of A's things.
    const bImages = (await (await b.app.request("/v1/images")).json()) as {
      items: { id: string }[];
    };
    expect(bImages.items.map((i) => i.id)).not.toContain(fixtures.imageId);
    const bKeys = (await (await b.app.request("/v1/api-keys")).json()) as {
      items: { id: string }[];
    };
    expect(bKeys.items.map((k) => k.id)).not.toContain(fixtures.apiKeyId);

    // Last, the owner's deletes (the segmentation before its image), which B's did not do.
    deletes.sort(
      (x, y) =>
        (x.path.startsWith("/v1/images") ? 1 : 0) - (y.path.startsWith("/v1/images") ? 1 : 0),
    );
    for (const { method, path, op } of deletes) {
      const res = await send(method, path, op, { Authorization: `Bearer ${fixtures.a.token}` });
      check(`${key(method, path)} as its owner`, res.status, (s) => s === 204);
    }
    expect(failures).toEqual([]);
    expect(deletes.length).toBeGreaterThanOrEqual(3);
  });

  test("a disabled user's token and a revoked API key get 401 on every protected operation", async () => {
    const { c, admin, operations, fixtures } = await setUp();
    const disabled = await c.createUser();
    const keyRes = await disabled.app.request("/v1/api-keys", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "to revoke" }),
    });
    const revoked = (await keyRes.json()) as { id: string; key: string };
    expect(
      (await disabled.app.request(`/v1/api-keys/${revoked.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    const patch = await admin.app.request(`/v1/admin/users/${disabled.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    expect(patch.status).toBe(200);

    const failures: string[] = [];
    let checked = 0;
    for (const { method, path, op } of operations) {
      if (PUBLIC.includes(key(method, path))) continue;
      for (const [who, headers] of [
        ["disabled user's token", { Authorization: `Bearer ${disabled.token}` }],
        ["revoked key (X-API-Key)", { "X-API-Key": revoked.key }],
        ["revoked key (Bearer)", { Authorization: `Bearer ${revoked.key}` }],
      ] as const) {
        const { url, init } = buildRequest(method, path, op, fixtures, headers);
        const res = await c.rawApp.request(url, init);
        checked++;
        if (res.status !== 401) failures.push(`${key(method, path)} with a ${who}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(60);
  });

  test("the walk fails loudly on a path parameter or a body it cannot fill", () => {
    const f = {} as Fixtures;
    expect(() => fillPath("/v1/widgets/{id}", f)).toThrow(
      'No value for path parameter {id} of /v1/widgets/{id}: add "/v1/widgets/{id}" to PATH_PARAMS',
    );
    expect(() =>
      buildRequest("post", "/v1/widgets", { requestBody: { content: {} } }, f, {}),
    ).toThrow("No body for POST /v1/widgets: add one to BODIES");
  });
});
