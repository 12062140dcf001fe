import { createRoute, z } from "@hono/zod-openapi";
import { requireLogin } from "../../../../http/authenticate.ts";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { passwordField, TokenSchema } from "../auth/schemas.ts";

const route = createRoute({
  method: "post",
  path: "/password",
  tags: ["auth"],
  summary: "Change the caller's password",
  description:
    "Needs the current password and a login token (not an API key). Access tokens issued " +
    "before this second stop working; the answer carries a fresh one. API keys keep working.",
  middleware: [requireLogin()] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            current_password: passwordField("current_password"),
            new_password: passwordField("new_password"),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Changed; a fresh token",
      content: { "application/json": { schema: TokenSchema } },
    },
    ...problemResponses("forbidden", "validation_failed"),
  },
});

export function registerChangePassword(app: App) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const token = await c.var.services.users.changePassword(
      c.var.principal,
      body.current_password,
      body.new_password,
    );
    return c.json(token, 200, { "Cache-Control": "no-store" });
  });
}
