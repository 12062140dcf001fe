import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

/**
 * The policy of everything but /docs: images, SVG charts, JSON and problem documents load
 * nothing, run nothing and cannot be framed; inline styles stay allowed so an SVG opened
 * directly renders as it does in an `<img>` tag.
 */
export const RESOURCE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * Sets `X-Content-Type-Options: nosniff`, so no browser reads an uploaded image, a chart or a
 * problem document as HTML or script, and RESOURCE_CSP unless a policy is set already.
 *
 * @example
 * addSecurityHeaders(response.headers);
 */
export function addSecurityHeaders(headers: Headers): void {
  headers.set("X-Content-Type-Options", "nosniff");
  if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", RESOURCE_CSP);
}

/**
 * addSecurityHeaders on every response of the app.
 *
 * @example
 * app.use(securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function setSecurityHeaders(c, next) {
    await next();
    addSecurityHeaders(c.res.headers);
  };
}

async function sha256Source(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/**
 * The policy of the Swagger UI page: its scripts and styles from `assets` ("'self'" or a CDN
 * origin), its inline bootstrap script allowed by hash (not 'unsafe-inline', which would let an
 * injected script run too), inline styles (Swagger UI sets style attributes), data: images (its
 * icons), and requests to this origin only (the document, "Try it out").
 *
 * The hashes are taken from the page as served, so a new @hono/swagger-ui version that changes
 * its bootstrap script keeps working.
 *
 * @example
 * app.get("/docs", docsContentSecurityPolicy({ assets: "'self'" }), swaggerUI({ url: "/openapi.json" }));
 */
export function docsContentSecurityPolicy(options: { assets: string }): MiddlewareHandler<AppEnv> {
  return async function setDocsPolicy(c, next) {
    await next();
    const html = await c.res.clone().text();
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    const hashes = await Promise.all(inline.map(sha256Source));
    c.res.headers.set(
      "Content-Security-Policy",
      [
        "default-src 'none'",
        `script-src ${[options.assets, ...hashes].join(" ")}`,
        `style-src ${options.assets} 'unsafe-inline'`,
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
    );
  };
}
