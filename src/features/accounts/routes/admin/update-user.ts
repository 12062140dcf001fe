import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { ROLES } from "../../principal.ts";
import { UserSchema } from "../auth/schemas.ts";
import { UserIdParams } from "./schemas.ts";

const route = createRoute({
  method: "patch",
  path: "/users/{id}",
  tags: ["admin"],
  summary: "Disable or enable an account, or change its role",
  description:
    "`disabled: true` stops the account's tokens and API keys at once (each request checks); " +
    "`false` lets them work again. Admins cannot disable or demote themselves.",
  request: {
    params: UserIdParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            disabled: z.boolean({ error: "Expected true or false for disabled" }).optional(),
            role: z
              .enum(ROLES, { error: `Expected one of ${ROLES.join(", ")} for role` })
              .optional(),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "The account", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses("forbidden", "not_found", "conflict", "validation_failed"),
  },
});

export function registerUpdateUser(app: App) {
  return app.openapi(route, async (c) => {
    const user = await c.var.services.users.update(
      c.var.principal,
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(user, 200);
  });
}
