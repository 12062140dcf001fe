import { type Config, ConfigError, loadConfig } from "../../config/config.ts";
import { createCodecs, type WasmLoader, type WasmName } from "../../core/formats/codecs.ts";
import type { ResolveHost } from "../../features/notifications/webhooks/webhook-target.ts";
import { createApp } from "../../http/app.ts";
import type { Services } from "../../http/env.ts";
import { problemResponse } from "../../http/problem.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { BlobStore } from "../../platform/blob-store.ts";
import type { ImageProcessor } from "../../platform/image-processor.ts";
import { createInlineProcessor } from "../../platform/inline-image-processor.ts";
import { createJsonLogger, type Logger } from "../../platform/logger.ts";
import { wasmPasswordHasher } from "../../platform/password-hasher.ts";
import { memorySpool } from "../../platform/spool.ts";
import { assembleServices, createRateLimiters } from "../../wiring/assemble-services.ts";
import { connectPostgres } from "../postgres/database.ts";
import { dohResolver } from "./doh.ts";
import { submitOnlyJobs } from "./submit-only-jobs.ts";

/**
 * The bindings a Worker gets: Pictor's variables as strings (DATABASE_URL is required unless a
 * Hyperdrive binding named HYPERDRIVE is), and any other binding (R2, KV…), which
 * `EdgeAppOptions.blobs` may use.
 */
export type EdgeEnv = Record<string, unknown>;

/**
 * What an isolate's 128 MB allows, where the environment does not say otherwise: no image over
 * 16 MP (a 12 MP photo's RGBA is 48 MiB, decoded once), and a bounded upload.
 */
export const EDGE_DEFAULTS: Record<string, string> = {
  MAX_PIXELS: String(16_000_000),
  MAX_UPLOAD_BYTES: String(40 * 2 ** 20),
};

/**
 * The most pixels an edge render or transform may output (just over 1920×1080): encoders hold
 * the whole image and their own buffers (WebP's reached 46 MiB for 3 MP), beside a decoded
 * 12 MP original. Larger outputs are refused with 422 before anything is decoded.
 */
export const EDGE_MAX_OUTPUT_PIXELS = 2_100_000;

/**
 * A codec instance whose memory grew past this is dropped after the request (and instantiated
 * again on next use), so an isolate holds one image's worth of codec memory, not every
 * codec's peak.
 */
export const CODEC_MEMORY_KEEP_BYTES = 24 * 2 ** 20;

/** The part of a Workers ExecutionContext the entry uses. */
export type EdgeContext = { waitUntil(promise: Promise<unknown>): void };

export type EdgeAppOptions = {
  /**
   * The codecs' compiled modules, by WASM_FILES name (a bundler imports them as modules on
   * Workers), or a loader: nothing is fetched at run time.
   */
  wasm: Partial<Record<WasmName, WebAssembly.Module>> | WasmLoader;
  /** The compiled wasm/argon2 module (password hashing), or how to get it. */
  argon2: WebAssembly.Module | (() => Promise<WebAssembly.Module>);
  /**
   * Where image bytes go, from the Worker's bindings (an R2 bucket, say); default: Postgres,
   * beside the records.
   */
  blobs?: (env: EdgeEnv) => BlobStore | undefined;
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

/** A Hyperdrive binding: Cloudflare's pooled, cached way to Postgres. */
type Hyperdrive = { connectionString: string };
const isHyperdrive = (binding: unknown): binding is Hyperdrive =>
  typeof (binding as Hyperdrive | undefined)?.connectionString === "string";

function readConfig(env: EdgeEnv): Config & { databaseUrl: string } {
  const strings: Record<string, string> = { ...EDGE_DEFAULTS };
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") strings[name] = value;
  }
  if (isHyperdrive(env.HYPERDRIVE)) strings.DATABASE_URL = env.HYPERDRIVE.connectionString;
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
 * built once per isolate with its codecs and password hasher; its services are assembled per
 * request (cheap: no I/O, no hashing) on a postgres.js client of one connection
 * (porsager/postgres#884: a client must not outlive its request on Workers), closed once the
 * response body has been sent, and reach the routes through the request's context. Images are
 * processed on the request's own thread (createInlineProcessor), uploads spooled in memory,
 * passwords hashed by the reference argon2 in wasm; rate limits are counted per isolate. Jobs
 * are accepted but run by the Bun server or `npm run worker` (submitOnlyJobs). After each
 * request, codecs whose memory grew past CODEC_MEMORY_KEEP_BYTES are dropped. The database is
 * never migrated here: `npm run cli -- migrate` (or `npm start`) migrates it, against the same
 * DATABASE_URL, before a deployment.
 *
 * @example
 * import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
 * export default createEdgeApp({ wasm: { png, ... }, argon2 });
 */
export function createEdgeApp(options: EdgeAppOptions): EdgeApp {
  const codecs = createCodecs(wasmLoader(options.wasm));
  const { argon2 } = options;
  const hasher = wasmPasswordHasher(async () => (typeof argon2 === "function" ? argon2() : argon2));
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
        processor: withOutputCap(createInlineProcessor(codecs, logger), EDGE_MAX_OUTPUT_PIXELS),
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
      const blobs = options.blobs?.(env);
      const services = assembleServices(
        {
          db,
          ...(blobs ? { blobs } : {}),
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
      let probed: Partial<Record<WasmName, number>> | undefined;
      try {
        response = await app.fetch(request, {
          // Set by Cloudflare's edge, never by the client.
          clientAddress: request.headers.get("CF-Connecting-IP") ?? undefined,
          services,
        });
      } catch (err) {
        ctx.waitUntil(db.close());
        throw err;
      } finally {
        // Measured before the release: the most this request's codecs held together.
        if (config.edgeMemoryProbe) probed = codecs.wasmMemoryBytes();
        const dropped = codecs.releaseLargerThan(CODEC_MEMORY_KEEP_BYTES);
        if (dropped.length > 0) logger.debug("codec memory released", { codecs: dropped });
      }
      if (probed) response = withMemoryProbe(response, probed, hasher.memoryBytes());
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

/**
 * Tests' view of the isolate's WebAssembly memory (with EDGE_MEMORY_PROBE set): each
 * codec's and the password hasher's linear memory in bytes, as a JSON header, at the end of the
 * request (a memory never shrinks, so that is its peak) and before the codecs are released.
 */
function withMemoryProbe(
  response: Response,
  codecs: Partial<Record<WasmName, number>>,
  argon2: number,
): Response {
  const probed = new Response(response.body, response);
  probed.headers.set("X-Wasm-Memory", JSON.stringify({ ...codecs, argon2 }));
  return probed;
}

/** The processor with every pipeline's output held to `maxOutputPixels`. */
function withOutputCap(processor: ImageProcessor, maxOutputPixels: number): ImageProcessor {
  return {
    ...processor,
    run: (task) =>
      processor.run(
        task.kind === "pipeline" ? { ...task, job: { ...task.job, maxOutputPixels } } : task,
      ),
  };
}
