import { type Config, ConfigError, loadConfig } from "../../config.ts";
import { connectPostgres } from "../../db/database.ts";
import { migrate } from "../../db/migrate.ts";
import { createJobSystem } from "../../jobs/system.ts";
import { createJsonLogger } from "../../logger.ts";
import { createAnalysisService } from "../../services/analysis.ts";
import { createImageService } from "../../services/images.ts";
import { createJobExecutor } from "../../services/job-executor.ts";
import { createSegmentationService } from "../../services/segmentations.ts";
import { createTransformService } from "../../services/transforms.ts";
import { memorySpool } from "../../storage/spool.ts";
import { createWorkerPool } from "./worker-pool.ts";

/**
 * A job worker process (`npm run worker`): the same code as the API, without HTTP. With AMQP_URL
 * it consumes items from RabbitMQ; without, it claims them from Postgres like the API's
 * in-process transport. Either way any number of them may run, on any machine that reaches the
 * database (and the broker).
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
  const processor = createWorkerPool({ ...config.workers, logger });
  const { limits } = config;
  // Workers never receive uploads: the spool is there because the image service takes one.
  const images = createImageService({ sql: db.sql, spool: memorySpool, limits });
  const segmentations = createSegmentationService({ sql: db.sql, images, processor, limits });
  const executor = createJobExecutor({
    sql: db.sql,
    images,
    transforms: createTransformService({ sql: db.sql, images, processor, limits }),
    analysis: createAnalysisService({ sql: db.sql, images, segmentations, processor, limits }),
    processor,
    limits,
  });
  const jobs = await createJobSystem({
    settings: config.jobs,
    db,
    executor,
    logger,
    role: "worker",
  });
  await jobs.start();
  logger.info("worker ready", {
    transport: jobs.transport?.name,
    concurrency: config.jobs.concurrency,
    pid: process.pid,
  });
  return {
    jobs,
    async stop() {
      await jobs.stop();
      await processor.close();
      await db.close();
    },
  };
}

if (import.meta.main) {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const logger = createJsonLogger(config.logLevel);
  const running = await startJobWorker(config).catch((err: unknown) => {
    logger.error("could not start", { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      // Finish (and acknowledge) the items in hand, take no new ones, then leave.
      logger.info("worker stopping", { signal, in_flight: running.jobs.transport?.inFlight() });
      await running.stop();
      logger.info("worker stopped");
      process.exit(0);
    });
  }
}
