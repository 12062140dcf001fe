/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { AppEnv } from "../../http/env.ts";
import { ApiError } from "../../platform/api-error.ts";
import { Layout } from "./layout.tsx";

/**
 * The pages' policy: their own script and stylesheet only (no inline script, nothing from
 * elsewhere), images and requests to this origin, forms posting here, never framed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A page as the response: HTML, the page policy, never cached by a shared cache. */
export function page(c: Context<AppEnv>, body: Child, status = 200) {
  c.header("Content-Security-Policy", PAGE_CSP);
  c.header("Cache-Control", "private, no-store");
  return c.html(html`<!doctype html>${body}`, status as 200);
}

/** The viewer's email, for the navigation. */
export async function viewerEmail(c: Context<AppEnv>): Promise<string> {
  return (await c.var.services.users.get(c.var.principal.userId)).email;
}

/**
 * What a page shows for an error: an ApiError's own message (404 for another user's image), a
 * plain sorry for anything else (logged, as the API's handler does).
 */
export function errorPage(err: Error, c: Context<AppEnv>) {
  const known = err instanceof ApiError;
  if (!known) {
    c.var.services.logger.error("unhandled error", {
      request_id: c.var.requestId,
      error: err.message,
      stack: err.stack,
    });
  }
  const status = known ? err.status : 500;
  const title = status === 404 ? "Not found" : known ? err.title : "Something went wrong";
  const detail = known ? err.detail : "Something went wrong on our side; try again.";
  return page(
    c,
    <Layout title={title} page="error">
      <section class="panel narrow">
        <h1>{title}</h1>
        <p>{detail}</p>
        <p>
          <a href="/">Back to the gallery</a>
        </p>
      </section>
    </Layout>,
    status,
  );
}
