import { createRoute, z } from "@hono/zod-openapi";
import { limitByAddress } from "../../../../http/authenticate.ts";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { MIN_PASSWORD_LENGTH } from "../../password-policy.ts";
import { emailField, passwordField, UserSchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/signup",
  tags: ["auth"],
  summary: "Create an account",
  description:
    `Password: at least ${MIN_PASSWORD_LENGTH} characters, not among the most common ones. ` +
    "Then get a token from `/v1/auth/token`. Limited per client address (SIGNUP_RATE_LIMIT).",
  security: [],
  middleware: [limitByAddress((limits) => limits.signups, "signup")] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            email: emailField.pipe(z.email("Expected an email address for email")),
            password: passwordField("password").openapi({ example: "a long passphrase" }),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: "The account", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses("conflict", "validation_failed", "too_many_requests"),
  },
});

export function registerSignup(app: App) {
  return app.openapi(route, async (c) => {
    const { email, password } = c.req.valid("json");
    const user = await c.var.services.users.signup(email, password);
    return c.json(user, 201, { Location: "/v1/me" });
  });
}
