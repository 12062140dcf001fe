import { createRoute, z } from "@hono/zod-openapi";
import { requireLogin } from "../../../../http/authenticate.ts";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { NewApiKeySchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["auth"],
  summary: "Create an API key",
  description:
    "For machines. The answer carries the key once; only its hash is stored. `expires_at` " +
    "(optional, in the future) ends it. Needs a login token: an API key cannot make more keys.",
  middleware: [requireLogin()] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            name: z
              .string({ error: "Expected a string for name" })
              .trim()
              .min(1, "Expected 1 to 100 characters for name")
              .max(100, "Expected 1 to 100 characters for name")
              .openapi({ example: "nightly backup" }),
            expires_at: z.iso
              .datetime({ offset: true, error: "Expected an RFC 3339 date-time for expires_at" })
              .optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "The key, shown this once",
      content: { "application/json": { schema: NewApiKeySchema } },
    },
    ...problemResponses("forbidden", "validation_failed"),
  },
});

export function registerCreateApiKey(app: App) {
  return app.openapi(route, async (c) => {
    const { name, expires_at } = c.req.valid("json");
    const created = await c.var.services.apiKeys.create(c.var.principal, {
      name,
      expiresAt: expires_at ? new Date(expires_at) : null,
    });
    return c.json(created, 201, {
      Location: `/v1/api-keys/${created.id}`,
      "Cache-Control": "no-store",
    });
  });
}
