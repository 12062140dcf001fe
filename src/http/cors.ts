import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./env.ts";

const ALLOW_HEADERS = [
  "Authorization",
  "X-API-Key",
  "Content-Type",
  "Last-Event-ID",
  "If-None-Match",
];
const EXPOSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Request-Id", "X-Render-Cache"];
const ALLOW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/**
 * CORS for the pages of `services.corsOrigins` (CORS_ORIGINS), through Hono's `cors`: a
 * preflight from one of them is answered 204 here, before authentication (a browser never sends
 * a credential with it); a request from any other origin gets no CORS header at all, so the
 * browser keeps its page out. Credentials travel as headers or in signed URLs, never as
 * cookies, so `Access-Control-Allow-Credentials` is not sent.
 *
 * @example
 * app.use(corsForOrigins());
 */
export function corsForOrigins(): MiddlewareHandler<AppEnv> {
  let made: { origins: readonly string[]; handler: MiddlewareHandler } | undefined;
  return async function applyCors(c, next) {
    const origins = c.var.services.corsOrigins;
    const origin = c.req.header("origin");
    const any = origins.includes("*");
    if (!origin || !(any || origins.includes(origin))) return next();
    if (made?.origins !== origins) {
      const handler = cors({
        origin: any ? "*" : [...origins],
        allowMethods: ALLOW_METHODS,
        allowHeaders: ALLOW_HEADERS,
        exposeHeaders: EXPOSE_HEADERS,
        maxAge: 600,
      });
      made = { origins, handler };
    }
    return made.handler(c, next);
  };
}
