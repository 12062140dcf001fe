import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { integerParam } from "../../../http/validation.ts";
import { JobIdParams, JobItemPageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}/items",
  tags: ["jobs"],
  summary: "A job's items, in order, with their outcome",
  request: {
    params: JobIdParams,
    query: z.object({
      limit: integerParam("limit", 1, 1000)
        .optional()
        .openapi({ param: { name: "limit", in: "query" }, type: "integer", example: 100 }),
      cursor: integerParam("cursor", 0, 2 ** 31 - 1)
        .optional()
        .openapi({
          param: { name: "cursor", in: "query" },
          type: "string",
          description: "The next_cursor of a previous page",
        }),
    }),
  },
  responses: {
    200: {
      description: "One page of items (default 100, at most 1000)",
      content: { "application/json": { schema: JobItemPageSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerListJobItems(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const page = await c.var.services.jobs.items(c.var.principal, id, {
      limit: limit ?? 100,
      cursor,
    });
    return c.json(page, 200);
  });
}
