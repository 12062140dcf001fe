import { type Config, ConfigError, loadConfig } from "../../config/config.ts";
import { createJsonLogger } from "../../platform/logger.ts";

/**
 * Runs a Pictor process (the API server, a job worker) as its entry point: a bad configuration
 * exits 1 with its message, a failed start (most often an unreachable DATABASE_URL) exits 1 with
 * one log line so the supervisor retries, and SIGINT/SIGTERM stop it once (`name stopping`,
 * `name stopped`) and exit 0; a second signal while stopping, a failed stop, or one that takes
 * longer than SHUTDOWN_TIMEOUT_MS exits 1.
 *
 * @example
 * if (import.meta.main) await runProcess("worker", startJobWorker);
 */
export async function runProcess<T extends { stop(): Promise<void> }>(
  name: string,
  start: (config: Config) => Promise<T>,
  describeStop: (running: T) => Record<string, unknown> = () => ({}),
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const logger = createJsonLogger(config.logLevel);
  const running = await start(config).catch((err: unknown) => {
    logger.error("could not start", { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      if (stopping) {
        // A second Ctrl-C means "now": what is in hand is redelivered or re-claimed elsewhere.
        logger.warn(`${name} stopped without finishing`, { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info(`${name} stopping`, { signal, ...describeStop(running) });
      // Whatever hangs in the stop (a database that does not answer), the process still goes.
      setTimeout(() => {
        logger.error(`${name} did not stop within SHUTDOWN_TIMEOUT_MS`, {
          timeout_ms: config.shutdownTimeoutMs,
        });
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
      try {
        await running.stop();
      } catch (err) {
        logger.error(`${name} did not stop cleanly`, {
          error: err instanceof Error ? err.message : String(err),
        });
        process.exit(1);
      }
      logger.info(`${name} stopped`);
      process.exit(0);
    });
  }
}
