import { type Config, ConfigError, loadConfig } from "../../config/config.ts";
import { createCodecs, type WasmLoader, type WasmName } from "../../core/formats/codecs.ts";
import type { ResolveHost } from "../../features/notifications/webhooks/webhook-target.ts";
import { createApp } from "../../http/app.ts";
import type { Services } from "../../http/env.ts";
import { problemResponse } from "../../http/problem.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { ImageProcessor } from "../../platform/image-processor.ts";
import { createInlineProcessor } from "../../platform/inline-image-processor.ts";
import { createJsonLogger, type Logger } from "../../platform/logger.ts";
import { wasmPasswordHasher } from "../../platform/password-hasher.ts";
import { memorySpool } from "../../platform/spool.ts";
import { assembleServices, createRateLimiters } from "../../wiring/assemble-services.ts";
import { connectPostgres } from "../postgres/database.ts";
import { dohResolver } from "./doh.ts";
import { submitOnlyJobs } from "./submit-only-jobs.ts";

/** The bindings a Worker gets: Pictor's variables as strings (DATABASE_URL is required). */
export type EdgeEnv = Record<string, unknown>;

/** The part of a Workers ExecutionContext the entry uses. */
export type EdgeContext = { waitUntil(promise: Promise<unknown>): void };

export type EdgeAppOptions = {
  /**
   * The codecs' compiled modules, by WASM_FILES name (a bundler imports them as modules on
   * Workers), or a loader: nothing is fetched at run time.
   */
  wasm: Partial<Record<WasmName, WebAssembly.Module>> | WasmLoader;
  /** Default: JSON lines on the console at LOG_LEVEL. */
  logger?: Logger;
  /** How a webhook's host is resolved when it is registered; default: DNS over HTTPS. */
  resolve?: ResolveHost;
};

export type EdgeApp = {
  fetch(request: Request, env: EdgeEnv, ctx: EdgeContext): Promise<Response>;
};

/** What lives as long as the isolate: parsed once from the first request's bindings. */
type IsolateState = {
  config: Config & { databaseUrl: string };
  logger: Logger;
  limiters: Services["rateLimits"];
  processor: ImageProcessor;
};

function wasmLoader(wasm: EdgeAppOptions["wasm"]): WasmLoader {
  if (typeof wasm === "function") return wasm;
  return async (name) => {
    const module = wasm[name];
    if (!module) throw new Error(`No WebAssembly module ${name} was given to the edge entry`);
    return module;
  };
}

function readConfig(env: EdgeEnv): Config & { databaseUrl: string } {
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") strings[name] = value;
  }
  const config = loadConfig(strings);
  const { databaseUrl } = config;
  if (!databaseUrl) {
    throw new ConfigError(
      "Invalid configuration:\n  DATABASE_URL: Expected a postgres:// URL (the edge has no embedded database)",
    );
  }
  return { ...config, databaseUrl };
}

/**
 * Pictor for edge runtimes (Cloudflare Workers and the like): the same app as the Bun server,
 * built once per isolate; its services are assembled per request on a postgres.js client of one
 * connection (porsager/postgres#884: a client must not outlive its request on Workers), closed
 * once the response body has been sent, and reach the routes through the request's context. Images
 * are processed on the request's own thread (createInlineProcessor), uploads spooled in memory,
 * passwords hashed by hash-wasm; rate limits are counted per isolate. Jobs are accepted but run
 * by the Bun server or `npm run worker` (submitOnlyJobs). The database is never migrated here:
 * `npm start` or `npm run cli` migrate it, against the same DATABASE_URL, before a deployment.
 *
 * @example
 * import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
 * export default createEdgeApp({ wasm: { png, ... } });
 */
export function createEdgeApp(options: EdgeAppOptions): EdgeApp {
  const codecs = createCodecs(wasmLoader(options.wasm));
  const hasher = wasmPasswordHasher();
  const resolve = options.resolve ?? dohResolver();
  // Built once per isolate; each request brings its own services (on its own database client).
  const app = createApp({});
  let isolate: IsolateState | undefined;

  function state(env: EdgeEnv): IsolateState {
    if (!isolate) {
      const config = readConfig(env);
      const logger = options.logger ?? createJsonLogger(config.logLevel);
      isolate = {
        config,
        logger,
        limiters: createRateLimiters(config.rateLimits),
        processor: createInlineProcessor(codecs, logger),
      };
    }
    return isolate;
  }

  return {
    async fetch(request, env, ctx) {
      let current: IsolateState;
      try {
        current = state(env);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        (options.logger ?? createJsonLogger("error")).error("invalid configuration", {
          error: err.message,
        });
        return problemResponse(
          new ApiError("internal", "The service is misconfigured"),
          crypto.randomUUID(),
        );
      }
      const { config, logger, limiters, processor } = current;
      const db = connectPostgres(config.databaseUrl, { max: 1 });
      const services = assembleServices(
        {
          db,
          spool: memorySpool,
          processor,
          hasher,
          limits: config.limits,
          auth: config.auth,
          rateLimits: config.rateLimits,
          limiters,
          logger,
          // Signed-URL keys come from URL_SIGNING_KEYS here, or one database read per request.
          delivery: config.delivery,
          publicUrl: config.publicUrl,
        },
        (useCases) => ({
          jobs: submitOnlyJobs({
            sql: db.sql,
            settings: config.jobs,
            webhooks: config.webhooks,
            resolve,
            useCases,
          }),
          background: null,
        }),
      );
      let response: Response;
      try {
        response = await app.fetch(request, {
          // Set by Cloudflare's edge, never by the client.
          clientAddress: request.headers.get("CF-Connecting-IP") ?? undefined,
          services,
        });
      } catch (err) {
        ctx.waitUntil(db.close());
        throw err;
      }
      if (!response.body) {
        ctx.waitUntil(db.close());
        return response;
      }
      // Bodies stream from the database (files, renders, job events): the client ends only
      // once the last chunk went out, or the client went away.
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      ctx.waitUntil(
        response.body
          .pipeTo(writable)
          .catch(() => {})
          .finally(() => db.close()),
      );
      return new Response(readable, response);
    },
  };
}
