import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ApiError } from "../platform/api-error.ts";
import type { AppEnv } from "./env.ts";
import { problemResponses } from "./problem.ts";

const Status = z.object({ status: z.literal("ok") }).openapi("HealthStatus");

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness: the process answers (no I/O)",
  security: [],
  responses: { 200: { description: "Alive", content: { "application/json": { schema: Status } } } },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["health"],
  summary: "Readiness: the database answers",
  security: [],
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: Status } } },
    ...problemResponses("unavailable"),
  },
});

export function healthRoutes() {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(healthz, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyz, async (c) => {
    try {
      await c.var.services.checkReady();
    } catch (err) {
      c.var.services.logger.warn("not ready", { error: String(err) });
      throw new ApiError("unavailable", "The database does not answer");
    }
    return c.json({ status: "ok" as const }, 200);
  });
  return app;
}
