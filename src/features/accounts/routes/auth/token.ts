import { createRoute, z } from "@hono/zod-openapi";
import { limitByAddress } from "../../../../http/authenticate.ts";
import { unsupportedContentType } from "../../../../http/content-type.ts";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { ApiError } from "../../../../platform/api-error.ts";
import { emailField, passwordField, TokenSchema } from "./schemas.ts";

const JsonLogin = z
  .object({
    email: emailField.optional(),
    username: emailField.optional().openapi({ description: "An alias of `email`." }),
    password: passwordField("password"),
  })
  .openapi("Login");

// The OAuth2 password grant (RFC 6749 §4.3) as Swagger UI's Authorize dialog and FastAPI-style
// clients send it; scope and client credentials are accepted and ignored.
const FormLogin = z.object({
  grant_type: z.literal("password", { error: "Expected password for grant_type" }).optional(),
  username: emailField,
  password: passwordField("password"),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const route = createRoute({
  method: "post",
  path: "/token",
  tags: ["auth"],
  summary: "Log in: an access token for email and password",
  description:
    "JSON `{email, password}` (`username` is accepted for `email`), or the OAuth2 password form " +
    "(`application/x-www-form-urlencoded`: `grant_type=password&username=…&password=…`), which " +
    "is what the Authorize button of /docs sends. A wrong password and an unknown email get the " +
    "same 400; a disabled account says so after a correct password. Every error carries OAuth2's " +
    "`error` and `error_description` (RFC 6749 §5.2) beside the problem+json members.",
  security: [],
  middleware: [limitByAddress((limits) => limits.requests, "login")] as const,
  request: {
    body: {
      required: false,
      content: {
        "application/json": { schema: JsonLogin },
        "application/x-www-form-urlencoded": { schema: FormLogin },
      },
    },
  },
  responses: {
    200: { description: "The token", content: { "application/json": { schema: TokenSchema } } },
    ...problemResponses(
      "invalid_grant",
      "validation_failed",
      "unsupported_media_type",
      "too_many_requests",
    ),
  },
});

export function registerToken(app: App) {
  return app.openapi(route, async (c) => {
    // Both body types are optional to zod-openapi (it would otherwise require both at once), so
    // the content type picks the one that was validated.
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    let email: string | undefined;
    let password: string;
    if (type.startsWith("application/x-www-form-urlencoded")) {
      ({ username: email, password } = c.req.valid("form"));
    } else if (type.startsWith("application/json")) {
      const body: { email?: string | undefined; username?: string | undefined; password: string } =
        c.req.valid("json");
      email = body.email ?? body.username;
      password = body.password;
    } else {
      throw unsupportedContentType(
        ["application/x-www-form-urlencoded", "application/json"],
        c.req.header("content-type"),
      );
    }
    if (!email) {
      throw new ApiError("validation_failed", "Expected an email address for email", {
        errors: [{ path: "json.email", message: "Required (or username)" }],
      });
    }
    return c.json(await c.var.services.users.login(email, password), 200, {
      "Cache-Control": "no-store",
    });
  });
}
