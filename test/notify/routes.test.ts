import { afterAll, beforeAll, expect, test } from "bun:test";
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { uuidv7 } from "../../src/core/lib/uuid.ts";
import { meNotificationsRoutes } from "../../src/features/notifications/routes/index.ts";
import { webhooksRoutes } from "../../src/features/notifications/webhooks/routes/index.ts";
import type { App, AppEnv, Services } from "../../src/http/env.ts";
import { problemResponse } from "../../src/http/problem.ts";
import { validationHook } from "../../src/http/validation.ts";
import { ApiError } from "../../src/platform/api-error.ts";
import {
  createNotificationsRuntime,
  type NotificationsRuntime,
} from "../../src/wiring/notification-runtime.ts";
import { describeEachDatabase } from "../support/database.ts";
import { captureLogger, jobSummary, PUBLIC_URL } from "./support.ts";

/**
 * The routes mounted as createApp mounts them, over the notification services alone, with the
 * caller taken from a test header instead of a token (test/jobs/api.test.ts goes through the
 * whole app, authentication included).
 */
function hostApp(rt: NotificationsRuntime): App {
  const app: App = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Only the two services these routes use.
  const services = { notifications: rt.notifications, webhooks: rt.webhooks } as Partial<Services>;
  app.use(requestId({ headerName: "X-Request-Id" }), async function testPrincipal(c, next) {
    c.set("services", services as Services);
    c.set("principal", {
      userId: c.req.header("x-test-user") ?? "",
      role: "user",
      via: "token",
      keyId: null,
    });
    await next();
  });
  app.route("/v1/me", meNotificationsRoutes());
  app.route("/v1/webhooks", webhooksRoutes());
  app.onError((err, c) => {
    if (err instanceof ApiError) return problemResponse(err, c.var.requestId);
    throw err;
  });
  return app;
}

describeEachDatabase("notification routes", (ctx) => {
  let rt: NotificationsRuntime;
  let app: App;
  const ada = uuidv7();
  const bob = uuidv7();

  beforeAll(() => {
    rt = createNotificationsRuntime({
      db: ctx().db,
      logger: captureLogger().logger,
      publicUrl: PUBLIC_URL,
      settings: {
        smtpUrl: undefined,
        mailFrom: "Pictor <pictor@pictor.test>",
        maxAttempts: 5,
        backoffMs: 20,
        backoffMaxMs: 50,
        timeoutMs: 1000,
        pollMs: 20,
        attachMaxFiles: 5,
        attachMaxBytes: 1024,
      },
      webhooks: { allowHttpHosts: [], allowPrivate: [] },
      resolve: async () => ["93.184.215.14"],
      readResult: async () => new Uint8Array(0),
    });
    app = hostApp(rt);
  });
  afterAll(async () => {
    await rt.close();
  });

  const call = (user: string, method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: {
        "X-Test-User": user,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test("GET/PATCH /v1/me/notifications", async () => {
    expect(await (await call(ada, "GET", "/v1/me/notifications")).json()).toEqual({
      email: "always",
    });
    const patched = await call(ada, "PATCH", "/v1/me/notifications", { email: "failure" });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toEqual({ email: "failure" });
    expect(await (await call(ada, "GET", "/v1/me/notifications")).json()).toEqual({
      email: "failure",
    });
    expect(await (await call(bob, "GET", "/v1/me/notifications")).json()).toEqual({
      email: "always",
    });
    expect(await (await call(ada, "PATCH", "/v1/me/notifications", {})).json()).toEqual({
      email: "failure",
    });

    const bad = await call(ada, "PATCH", "/v1/me/notifications", { email: "daily" });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect((await bad.json()).errors).toEqual([
      { path: "json.email", message: "Expected one of always, failure, never for email" },
    ]);
  });

  test("GET /v1/me/outbox shows the caller's emails only, paginated", async () => {
    await rt.notifications.updatePreferences(bob, { email: "always" });
    for (let i = 0; i < 3; i++)
      await rt.notifications.enqueueForJob({ job: jobSummary(bob), recipient: "bob@example.com" });
    await rt.dispatcher.runOnce();
    const first = await call(bob, "GET", "/v1/me/outbox?limit=2");
    expect(first.status).toBe(200);
    const page = await first.json();
    expect(page.items).toHaveLength(2);
    expect(page.items[0].to).toBe("bob@example.com");
    expect(page.items[0].subject).toBe("[Pictor] Transform job succeeded: 2 of 2 items succeeded");
    const second = await (
      await call(bob, "GET", `/v1/me/outbox?limit=2&cursor=${page.next_cursor}`)
    ).json();
    expect([second.items.length, second.next_cursor]).toEqual([1, null]);
    expect(await (await call(ada, "GET", "/v1/me/outbox")).json()).toEqual({
      items: [],
      next_cursor: null,
    });
    const bad = await call(bob, "GET", "/v1/me/outbox?limit=0");
    expect(bad.status).toBe(422);
    expect((await bad.json()).detail).toBe(
      'query.limit: Expected an integer between 1 and 100 for limit but received "0"',
    );
  });

  test("POST/GET/DELETE /v1/webhooks", async () => {
    const created = await call(ada, "POST", "/v1/webhooks", {
      url: "https://hooks.example.com/pictor",
      events: ["job.failed", "job.partially_failed"],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const hook = await created.json();
    expect(created.headers.get("location")).toBe(`/v1/webhooks/${hook.id}`);
    expect(hook.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(hook.events).toEqual(["job.failed", "job.partially_failed"]);

    const listed = await (await call(ada, "GET", "/v1/webhooks")).json();
    expect(listed).toEqual({
      items: [
        {
          id: hook.id,
          url: "https://hooks.example.com/pictor",
          events: ["job.failed", "job.partially_failed"],
          created_at: hook.created_at,
        },
      ],
      next_cursor: null,
    });
    expect((await call(bob, "GET", `/v1/webhooks/${hook.id}`)).status).toBe(404);
    expect((await call(bob, "DELETE", `/v1/webhooks/${hook.id}`)).status).toBe(404);
    expect((await call(ada, "GET", `/v1/webhooks/${hook.id}`)).status).toBe(200);
    expect((await call(ada, "DELETE", `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect((await call(ada, "GET", `/v1/webhooks/${hook.id}`)).status).toBe(404);
  });

  test("POST /v1/webhooks refuses what the policy refuses, naming the field", async () => {
    const cases: [unknown, number, string][] = [
      [{ url: "http://hooks.example.com/" }, 422, "Expected an https URL"],
      [{ url: "https://127.0.0.1/" }, 422, "Refused to connect to 127.0.0.1: a loopback address"],
      [{ url: "https://localhost/" }, 422, "(localhost resolves to it): a loopback address"],
      [{ url: "https://[::1]/" }, 422, "Refused to connect to ::1"],
      [{ url: "https://10.0.0.1/" }, 422, "a private address"],
      [{ url: "https://hooks.example.com/", events: [] }, 422, "Expected at least one event"],
      [{ url: "https://hooks.example.com/", events: ["job.done"] }, 422, "for events"],
      [{ events: ["job.failed"] }, 422, "Expected a URL for url"],
    ];
    for (const [body, status, detail] of cases) {
      const res = await call(ada, "POST", "/v1/webhooks", body);
      const problem = await res.json();
      expect([res.status, problem.detail]).toEqual([status, expect.stringContaining(detail)]);
      expect(problem.errors?.[0]?.path).toMatch(/^json\.(url|events(\.0)?)$/);
    }
    const invalidId = await call(ada, "GET", "/v1/webhooks/not-a-uuid");
    expect(invalidId.status).toBe(422);
  });
});
