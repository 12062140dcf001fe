import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { ApiKeyIdParams } from "./schemas.ts";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["auth"],
  summary: "Revoke an API key",
  description: "It stops working with its next request.",
  request: { params: ApiKeyIdParams },
  responses: {
    204: { description: "Revoked" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerDeleteApiKey(app: App) {
  return app.openapi(route, async (c) => {
    await c.var.services.apiKeys.revoke(c.var.principal, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
