import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { JobIdParams, JobSchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/{id}/cancel",
  tags: ["jobs"],
  summary: "Cancel a job",
  description:
    "Queued items are canceled at once and never run; items running now finish (their result " +
    "is kept) and the job ends `canceled` when the last of them does. Canceling a finished job " +
    "changes nothing.",
  request: { params: JobIdParams },
  responses: {
    200: {
      description: "The job after the cancel request",
      content: { "application/json": { schema: JobSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerCancelJob(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.jobs.cancel(c.var.principal, c.req.valid("param").id), 200),
  );
}
