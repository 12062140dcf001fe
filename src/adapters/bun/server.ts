import { type Config, ConfigError } from "../../config/config.ts";
import { createApp } from "../../http/app.ts";
import { problemResponse } from "../../http/problem.ts";
import { addSecurityHeaders } from "../../http/security-headers.ts";
import { ApiError } from "../../platform/api-error.ts";
import { createDeferredWork } from "../../platform/deferred-work.ts";
import { createJsonLogger, type Logger } from "../../platform/logger.ts";
import type { ObjectStore } from "../../platform/object-store.ts";
import { createServices } from "../../wiring/create-services.ts";
import { createSharedRateLimiters } from "../../wiring/shared-rate-limiters.ts";
import { createPrometheusMetrics } from "../node/prometheus-metrics.ts";
import { collectBlobGarbage } from "../postgres/blob-maintenance.ts";
import { connectPostgres, type Database } from "../postgres/database.ts";
import { openEmbeddedDatabase } from "../postgres/embedded-postgres.ts";
import { migrate } from "../postgres/migrate.ts";
import { openBlobStore } from "../s3/open-blob-store.ts";
import { bunPasswordHasher } from "./bun-password-hasher.ts";
import { contentLengthKeeper } from "./content-length.ts";
import { createFileSpool } from "./file-spool.ts";
import { runProcess } from "./main.ts";
import { createWorkerPool, workerPoolOptions } from "./worker-pool.ts";

const swaggerDist = new URL("../../../node_modules/swagger-ui-dist/", import.meta.url);
/** A render's cache write waits this long for the next requests' lookups (createDeferredWork). */
const DEFERRED_START_MS = 15;

async function readDocsAsset(file: string): Promise<Uint8Array | null> {
  const asset = Bun.file(new URL(file, swaggerDist));
  return (await asset.exists()) ? asset.bytes() : null;
}

/**
 * Deletes the objects no record needs every `intervalSeconds` (never when 0); returns the stop,
 * which waits for a collection in progress (before the database closes under it). Several API
 * instances may run it at once: the collector's guards keep them apart.
 */
function collectGarbagePeriodically(
  db: Database,
  objects: ObjectStore,
  intervalSeconds: number,
  logger: Logger,
): () => Promise<void> {
  if (intervalSeconds === 0) return async () => {};
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= collectBlobGarbage(db.sql, objects)
      .then((report) => {
        if (report.deleted > 0) logger.info("blob garbage collected", report);
      })
      .catch((err: unknown) => {
        logger.warn("blob garbage collection failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        running = undefined;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Opens the database, migrates it and serves the API: the Bun entry point, also used by tests. */
export async function startServer(config: Config) {
  const logger = createJsonLogger(config.logLevel);
  if (config.jobs.amqpUrl && !config.databaseUrl) {
    // With a broker this process only relays jobs; the workers that run them need the database,
    // and the embedded one cannot be reached from outside this process: nothing would run.
    throw new ConfigError(
      "AMQP_URL needs DATABASE_URL: workers run the jobs and must reach the API's database, which the embedded one does not allow",
    );
  }
  const db: Database = config.databaseUrl
    ? connectPostgres(config.databaseUrl)
    : await openEmbeddedDatabase(`${config.dataDir}/pglite`);
  await migrate(db.sql, logger);
  const { blobs, objects, directDownloads } = await openBlobStore(db.sql, config.blobs).catch(
    async (err: unknown) => {
      await db.close();
      throw err;
    },
  );
  const metrics = createPrometheusMetrics();
  const processor = createWorkerPool(workerPoolOptions(config, logger, metrics));
  const rateLimits = await createSharedRateLimiters(config, db);
  const deferred = createDeferredWork(logger, { startAfterMs: DEFERRED_START_MS });
  const services = createServices({
    db,
    blobs,
    directDownloads,
    spool: createFileSpool(config.tempImageDir),
    processor,
    hasher: bunPasswordHasher(),
    limits: config.limits,
    auth: config.auth,
    rateLimits: config.rateLimits,
    limiters: rateLimits.limiters,
    logger,
    delivery: config.delivery,
    metrics,
    deferred,
    jobs: config.jobs,
    notify: {
      publicUrl: config.publicUrl,
      settings: config.notifications,
      webhooks: config.webhooks,
    },
  });
  if (config.auth.admin) {
    const { email, password } = config.auth.admin;
    const { user, created } = await services.users.ensureAdmin(email, password, {
      resetPassword: false,
    });
    logger.info(created ? "admin created" : "admin ensured", { user_id: user.id, email });
  }
  // Jobs run here in-process without a broker, or are only relayed to the workers with
  // AMQP_URL; notifications are delivered from here (and from every worker) either way.
  await services.background.start();
  const stopGarbageCollection = objects
    ? collectGarbagePeriodically(db, objects, config.blobs.gcIntervalSeconds, logger)
    : async () => {};
  // Not listening (so not ready) until every worker has compiled every codec: no first request
  // pays seconds of wasm compilation.
  const { ms: codecsMs } = await processor.ready;
  const app = createApp({
    services,
    readDocsAsset,
    metrics: { metrics, token: config.metricsToken },
  });
  const keepContentLength = contentLengthKeeper();
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // The connection's address, for the per-address signup and login limits.
    fetch: async (request, server) =>
      keepContentLength(
        await app.fetch(request, { clientAddress: server.requestIP(request)?.address }),
      ),
    // Bun refuses a body over this limit (128 MiB by default) with an empty 413 before the app
    // runs, on the declared Content-Length or mid-stream (honojs/hono#2671): no limit here, the
    // app's own (limitParsedBodies) answers with a problem naming it.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 120,
    // Hono answers every error of the app itself; this catches what escapes it (a throw in the
    // adapter above), which Bun would otherwise answer with its HTML error page (plain text
    // under NODE_ENV=production).
    error(err) {
      logger.error("unhandled server error", { error: err.message, stack: err.stack });
      const response = problemResponse(
        new ApiError("internal", "Something went wrong on our side"),
        undefined,
      );
      addSecurityHeaders(response.headers);
      return response;
    },
  });
  // The docs' address first: where a newcomer who just ran `npm start` goes next.
  logger.info("listening", {
    docs: new URL("/docs", server.url).href,
    url: server.url.href,
    database: db.kind,
    blobs: objects?.name ?? "postgres",
    codecs_ready_ms: Math.round(codecsMs),
    rate_limits: rateLimits.store,
  });
  return {
    server,
    db,
    jobs: services.background.jobs,
    async stop() {
      // New connections are refused at once; requests in flight get SHUTDOWN_TIMEOUT_MS, less
      // what closing the rest may take, then their connections are cut.
      const stopped = server.stop();
      // Open event streams would hold the stop forever: end them, their clients resume elsewhere.
      services.jobs.closeStreams();
      const graceMs = config.shutdownTimeoutMs - Math.min(2000, config.shutdownTimeoutMs / 4);
      const drained = await Promise.race([
        stopped.then(() => true),
        Bun.sleep(graceMs).then(() => false),
      ]);
      if (!drained) {
        logger.warn("requests still in flight at the shutdown timeout: closing them", {
          timeout_ms: config.shutdownTimeoutMs,
        });
        // Waiting and running image tasks answer 503 first, then the connections go.
        await processor.close();
        await server.stop(true);
      }
      // Render-cache writes of answered requests, before the database closes.
      await deferred.drain();
      await stopGarbageCollection();
      await services.background.stop();
      await processor.close();
      await rateLimits.close();
      await db.close();
    },
  };
}

if (import.meta.main) await runProcess("server", startServer);
