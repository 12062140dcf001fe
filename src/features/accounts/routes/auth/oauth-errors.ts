import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../../../http/env.ts";
import { problemType } from "../../../../platform/api-error.ts";

type Problem = { type?: string; detail?: string; errors?: { path: string }[] };

/** RFC 6749 §5.2's error code for a problem of the token endpoint. */
function oauthError(problem: Problem): string {
  if (problem.type === problemType("invalid_grant")) return "invalid_grant";
  if (problem.errors?.some((e) => e.path === "form.grant_type")) return "unsupported_grant_type";
  return "invalid_request";
}

/**
 * Gives every error of the token endpoint the members of an OAuth2 error response (RFC 6749
 * §5.2), `error` and `error_description`, beside the problem+json ones: OAuth2 clients, Swagger
 * UI's Authorize dialog among them, show those and nothing else. Registered ahead of the
 * middleware that may refuse a token request (rate limit, body limit, unknown fields), so their
 * problems get them too.
 *
 * @example
 * app.use("/v1/auth/token", oauthTokenErrors());
 */
export function oauthTokenErrors(): MiddlewareHandler<AppEnv> {
  return async function addOauthMembers(c, next) {
    await next();
    if (c.res.status < 400) return;
    const problem = (await c.res.clone().json()) as Problem;
    const body = { ...problem, error: oauthError(problem), error_description: problem.detail };
    const { status } = c.res;
    const headers = new Headers(c.res.headers);
    headers.delete("Content-Length");
    // As the token itself (§5.1): no cache keeps an answer about credentials.
    headers.set("Cache-Control", "no-store");
    // Replaced, not merged: Hono's setter would copy the old headers back over these.
    c.res = undefined;
    c.res = new Response(JSON.stringify(body), { status, headers });
  };
}
