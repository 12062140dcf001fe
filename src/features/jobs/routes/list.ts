import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { pageQuery } from "../../../http/validation.ts";
import { JOB_STATUSES } from "../types.ts";
import { JobPageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["jobs"],
  summary: "List your jobs, newest first",
  request: {
    query: pageQuery().extend({
      status: z
        .enum(JOB_STATUSES, { error: `Expected one of ${JOB_STATUSES.join(", ")} for status` })
        .optional()
        .openapi({ param: { name: "status", in: "query" } }),
    }),
  },
  responses: {
    200: {
      description: "One page of jobs",
      content: { "application/json": { schema: JobPageSchema } },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerListJobs(app: App) {
  return app.openapi(route, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const page = await c.var.services.jobs.list(c.var.principal, {
      limit,
      cursor,
      status,
    });
    return c.json(page, 200);
  });
}
