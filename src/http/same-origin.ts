import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../platform/api-error.ts";
import type { AppEnv } from "./env.ts";

const SAFE_METHODS = /^(GET|HEAD|OPTIONS)$/;

/**
 * True when the browser says the request comes from a page of this origin: `Sec-Fetch-Site:
 * same-origin`, or an `Origin` header equal to the request's own origin. This is the rule of
 * Hono's `csrf` middleware, which applies it to form content types only (counting on CORS
 * preflights to stop cross-site JSON); here it covers every request a cookie authenticates,
 * whatever its content type, so a CORS policy added later cannot open a hole.
 */
export function isSameOrigin(c: Context<AppEnv>): boolean {
  if (c.req.header("sec-fetch-site") === "same-origin") return true;
  const origin = c.req.header("origin");
  return origin !== undefined && origin === new URL(c.req.url).origin;
}

/**
 * CSRF protection for cookie-authenticated requests: a state-changing request (any method but
 * GET, HEAD and OPTIONS) that is not same-origin (isSameOrigin) is a 403.
 */
export function refuseCrossSite(c: Context<AppEnv>): void {
  if (SAFE_METHODS.test(c.req.method) || isSameOrigin(c)) return;
  throw new ApiError(
    "forbidden",
    "A request made with the session cookie must come from Pictor's own pages (Origin or Sec-Fetch-Site)",
  );
}

/** refuseCrossSite as middleware: for the sign-in, sign-up and log-out forms. */
export function requireSameOrigin(): MiddlewareHandler<AppEnv> {
  return async function checkSameOrigin(c, next) {
    refuseCrossSite(c);
    await next();
  };
}
