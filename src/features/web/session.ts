import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../http/env.ts";
import { SESSION_COOKIE } from "../accounts/index.ts";

/** The request came over https: directly, or through a trusted proxy that says so. */
function overHttps(c: Context<AppEnv>): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return c.var.services.trustProxy && c.req.header("x-forwarded-proto") === "https";
}

// No Max-Age or Expires: a session cookie, gone when the browser closes; the server ends the
// session itself after SESSION_LIFETIME_SECONDS. Lax: sent on a top-level link from elsewhere
// (so a link to a page works), never on another site's POST, fetch or image.
const cookieOptions = (c: Context<AppEnv>) =>
  ({ path: "/", httpOnly: true, sameSite: "Lax", secure: overHttps(c) }) as const;

/** Opens a session for `userId` and sets its cookie on the response. */
export async function signIn(c: Context<AppEnv>, userId: string): Promise<void> {
  const token = await c.var.services.auth.openSession(userId);
  setCookie(c, SESSION_COOKIE, token, cookieOptions(c));
}

/** Ends the request's session (if any) on the server and clears its cookie. */
export async function signOut(c: Context<AppEnv>): Promise<void> {
  const token = getCookie(c, SESSION_COOKIE);
  if (token) await c.var.services.auth.closeSession(token);
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c));
}

/** The principal of the request's session cookie, or null (no cookie, or a closed session). */
export async function sessionPrincipal(c: Context<AppEnv>) {
  const token = getCookie(c, SESSION_COOKIE);
  return token ? c.var.services.auth.authenticate({ session: token }) : null;
}

/** Pages for signed-in people: sets the principal, or sends a visitor to /login. */
export function signedIn(): MiddlewareHandler<AppEnv> {
  return async function requireSession(c, next) {
    const principal = await sessionPrincipal(c);
    if (!principal) return c.redirect("/login", 302);
    c.set("principal", principal);
    await next();
  };
}
