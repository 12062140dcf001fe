import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { JobDetailSchema, JobIdParams } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["jobs"],
  summary: "A job, its progress and its notifications",
  request: { params: JobIdParams },
  responses: {
    200: {
      description: "The job",
      content: { "application/json": { schema: JobDetailSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerGetJob(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.jobs.get(c.var.principal, c.req.valid("param").id), 200),
  );
}
