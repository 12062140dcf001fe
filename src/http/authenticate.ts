import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import {
  type Credential,
  type Principal,
  type Role,
  SESSION_COOKIE,
} from "../features/accounts/index.ts";
import { ApiError } from "../platform/api-error.ts";
import type { RateLimiter } from "../platform/rate-limiter.ts";
import type { AppEnv } from "./env.ts";
import { refuseCrossSite } from "./same-origin.ts";

// RFC 6750 §3: a 401 names the scheme; with `error="invalid_token"` when a credential was sent.
const challenge = (invalid: boolean) =>
  `Bearer realm="pictor"${invalid ? ', error="invalid_token"' : ""}`;

function unauthorized(detail: string, invalid: boolean): ApiError {
  return new ApiError("unauthorized", detail, {
    headers: { "WWW-Authenticate": challenge(invalid) },
  });
}

function readCredential(c: Context<AppEnv>): Credential | null {
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized("Expected Authorization: Bearer <token or API key>", true);
    return { bearer: match[1] };
  }
  const apiKey = c.req.header("x-api-key")?.trim();
  if (apiKey) return { apiKey };
  const session = getCookie(c, SESSION_COOKIE);
  return session ? { session } : null;
}

/**
 * Authenticates every request but those to public routes (`isPublic`): a JWT or an API key in
 * `Authorization: Bearer`, an API key in `X-API-Key`, or else the web app's session cookie. No
 * credential, or one that proves nothing (bad signature, expired, revoked, disabled account,
 * closed session), is a 401 with WWW-Authenticate. A browser sends the cookie by itself, so a
 * state-changing request it authenticates must also come from Pictor's own pages (CSRF, see
 * refuseCrossSite). Mounted before the routes, so a route added later is protected unless it
 * declares otherwise.
 */
export function authenticate(options: {
  isPublic: (c: Context<AppEnv>) => boolean;
}): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    if (options.isPublic(c)) return next();
    const credential = readCredential(c);
    if (!credential) {
      throw unauthorized(
        "Authentication required: send Authorization: Bearer <access token or API key>, or X-API-Key",
        false,
      );
    }
    if ("session" in credential) refuseCrossSite(c);
    const principal = await c.var.services.auth.authenticate(credential);
    if (!principal) throw unauthorized("The credential is invalid, expired or revoked", true);
    c.set("principal", principal);
    await next();
  };
}

/** 403 unless the authenticated principal has `role`. */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async function checkRole(c, next) {
    if (c.var.principal.role !== role) {
      throw new ApiError("forbidden", `This needs the ${role} role`);
    }
    await next();
  };
}

/** 403 unless the principal logged in with a password (keys cannot manage keys or passwords). */
export function requireLogin(): MiddlewareHandler<AppEnv> {
  return async function checkLogin(c, next) {
    if (c.var.principal.via === "api_key") {
      throw new ApiError(
        "forbidden",
        "This needs an access token from /v1/auth/token, not an API key",
      );
    }
    await next();
  };
}

/** Answers 429 with Retry-After when `key`'s budget in `limiter` is spent. */
export async function enforceRateLimit(limiter: RateLimiter, key: string): Promise<void> {
  const result = await limiter.take(key);
  if (!result.allowed) {
    throw new ApiError(
      "too_many_requests",
      `Too many requests; retry in ${result.retryAfterSeconds} s`,
      { headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Counts write requests (every unsafe method) and compute requests (reads that `isCompute`
 * says run image work, e.g. renders and analyses) against the user's budget; other reads, such
 * as polling a job or downloading a file, are free. One budget per user, whichever token or API
 * key the request carries: keys cost nothing to make, so a budget per key would be no limit at
 * all.
 */
export function limitWritesAndCompute(options: {
  isCompute: (c: Context<AppEnv>) => boolean;
}): MiddlewareHandler<AppEnv> {
  return async function limitRequests(c, next) {
    const principal = c.get("principal") as Principal | undefined;
    if (principal && (!SAFE_METHODS.has(c.req.method) || options.isCompute(c))) {
      await enforceRateLimit(c.var.services.rateLimits.requests, `user:${principal.userId}`);
    }
    await next();
  };
}

/**
 * The client's address: the runtime's view of the connection, or with TRUST_PROXY the last
 * X-Forwarded-For entry, the one the proxy in front added (earlier ones are the client's say).
 */
export function clientAddress(c: Context<AppEnv>): string {
  if (c.var.services.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return c.env?.clientAddress ?? "unknown";
}

/** Route middleware: counts the request against `pick(limiters)` per client address. */
export function limitByAddress(
  pick: (limits: AppEnv["Variables"]["services"]["rateLimits"]) => RateLimiter,
  scope: string,
): MiddlewareHandler<AppEnv> {
  return async function limitAddress(c, next) {
    await enforceRateLimit(pick(c.var.services.rateLimits), `${scope}:${clientAddress(c)}`);
    await next();
  };
}
