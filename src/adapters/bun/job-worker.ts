import { type Config, ConfigError } from "../../config/config.ts";
import { serveMetrics } from "../../http/metrics.ts";
import { createJsonLogger } from "../../platform/logger.ts";
import { memorySpool } from "../../platform/spool.ts";
import { createImageUseCases } from "../../wiring/assemble-services.ts";
import { createJobRuntime } from "../../wiring/job-runtime.ts";
import { createPrometheusMetrics } from "../node/prometheus-metrics.ts";
import { connectPostgres } from "../postgres/database.ts";
import { migrate } from "../postgres/migrate.ts";
import { runProcess } from "./main.ts";
import { createWorkerPool, workerPoolOptions } from "./worker-pool.ts";

/**
 * A job worker process (`npm run worker`): the same code as the API, without HTTP. With AMQP_URL
 * it consumes items from RabbitMQ; without, it claims them from Postgres like the API's
 * in-process transport. Either way any number of them may run, on any machine that reaches the
 * database (and the broker). Each also delivers notifications (emails, webhooks).
 */
export async function startJobWorker(config: Config) {
  const logger = createJsonLogger(config.logLevel);
  if (!config.databaseUrl) {
    throw new ConfigError(
      "A worker needs DATABASE_URL: the embedded database lives inside the API process",
    );
  }
  const db = connectPostgres(config.databaseUrl);
  await migrate(db.sql, logger);
  const metrics = createPrometheusMetrics();
  const processor = createWorkerPool(workerPoolOptions(config, logger, metrics));
  // Workers never receive uploads: the spool is there because the image service takes one.
  const services = createImageUseCases({
    sql: db.sql,
    spool: memorySpool,
    processor,
    limits: config.limits,
    metrics,
  });
  const runtime = createJobRuntime({
    db,
    logger,
    role: "worker",
    settings: config.jobs,
    services,
    notify: {
      publicUrl: config.publicUrl,
      settings: config.notifications,
      webhooks: config.webhooks,
    },
    metrics,
  });
  const { jobs } = runtime;
  // Items, and the notifications of the jobs that end here.
  await runtime.start();
  // A worker serves no HTTP but its metrics, for Prometheus to scrape each worker on its own.
  const metricsServer =
    config.workerMetricsPort === undefined
      ? null
      : Bun.serve({
          hostname: config.host,
          port: config.workerMetricsPort,
          fetch: serveMetrics(metrics, config.metricsToken),
        });
  logger.info("worker ready", {
    transport: jobs.transport?.name,
    concurrency: config.jobs.concurrency,
    pid: process.pid,
    ...(metricsServer ? { metrics: new URL("/metrics", metricsServer.url).href } : {}),
  });
  return {
    jobs,
    async stop() {
      await metricsServer?.stop(true);
      await runtime.stop();
      await processor.close();
      await db.close();
    },
  };
}

if (import.meta.main) {
  // SIGTERM: finish (and acknowledge) the items in hand, take no new ones, then leave.
  await runProcess("worker", startJobWorker, (running) => ({
    in_flight: running.jobs.transport?.inFlight(),
  }));
}
