import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { App, AppEnv } from "./env.ts";

/**
 * What a route declares about itself for the middleware that every /v1 request passes, in its
 * own `createRoute` definition (and so in the OpenAPI document), instead of in path tables
 * beside the app:
 *
 * - public: `security: []`, OpenAPI's own "no credential needed": not authenticated.
 * - compute: `...COMPUTE_READ`, a read that runs image work, counted against the rate limit like
 *   a write.
 * - streamed: `...STREAMED_UPLOAD`, a multipart body parsed a part at a time under its own
 *   limits, so not held to the bound of bodies parsed whole.
 *
 * An operation that declares nothing is authenticated, free to read, and bounded: a route added
 * later is safe by default.
 *
 * @example
 * const route = createRoute({ ...COMPUTE_READ, method: "get", path: "/{id}/render", ... });
 */
export const COMPUTE_READ = { "x-compute": true } as const;
export const STREAMED_UPLOAD = { "x-streamed-upload": true } as const;
const COMPUTE = "x-compute" satisfies keyof typeof COMPUTE_READ;
const STREAMED = "x-streamed-upload" satisfies keyof typeof STREAMED_UPLOAD;

export type RouteFlags = {
  /** An operation serves this method and path (otherwise the answer is a 404 or 405). */
  served: boolean;
  public: boolean;
  compute: boolean;
  streamed: boolean;
};

const NONE: RouteFlags = { served: false, public: false, compute: false, streamed: false };

/** Reads the flags off an OpenAPI operation (or route definition). */
export function flagsOfOperation(operation: object): RouteFlags {
  const op = operation as Record<string, unknown>;
  return {
    served: true,
    public: Array.isArray(op.security) && op.security.length === 0,
    compute: op[COMPUTE] === true,
    streamed: op[STREAMED] === true,
  };
}

/**
 * The flags of every operation of `app`, keyed "METHOD /path/:param" as Hono routes them; read
 * once all routes are registered (the first request), then kept.
 *
 * @example
 * const flags = routeFlags(app);
 * app.use("/v1/*", authenticate({ isPublic: (c) => flags(c).public }));
 */
export function routeFlags(app: App): (c: Context<AppEnv>) => RouteFlags {
  let table: ReadonlyMap<string, RouteFlags> | undefined;
  return function flagsOf(c) {
    table ??= routeFlagTable(app);
    // The last route matched that is not middleware (app.use registers for ALL) serves the request.
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    return (route && table.get(`${route.method} ${route.path}`)) ?? NONE;
  };
}

/** Every registered operation and its flags, keyed "METHOD /path/:param". */
export function routeFlagTable(app: App): ReadonlyMap<string, RouteFlags> {
  const table = new Map<string, RouteFlags>();
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { method, path } = definition.route;
    const honoPath = path.replace(/\{([^}]+)\}/g, ":$1");
    table.set(`${method.toUpperCase()} ${honoPath}`, flagsOfOperation(definition.route));
  }
  return table;
}
