import { z } from "zod";

const MiB = 1024 * 1024;

const integer = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `Expected an integer between ${min} and ${max} for ${name}` })
    .int(`Expected an integer between ${min} and ${max} for ${name}`)
    .min(min, `Expected an integer between ${min} and ${max} for ${name}`)
    .max(max, `Expected an integer between ${min} and ${max} for ${name}`)
    .default(fallback);

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable Pictor reads. The README's configuration table mirrors this schema;
 * a variable that is not here is not read.
 */
const EnvSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: integer("PORT", 0, 65535, 8000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "Expected a postgres:// or postgresql:// URL for DATABASE_URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  TEMP_IMAGE_DIR: z.string().min(1).optional(),
  MAX_UPLOAD_BYTES: integer("MAX_UPLOAD_BYTES", 1, 2 ** 31 - 1, 25 * MiB),
  MAX_BATCH_FILES: integer("MAX_BATCH_FILES", 1, 10_000, 50),
  MAX_PIXELS: integer("MAX_PIXELS", 1, 2 ** 31 - 1, 50_000_000),
  IMAGE_WORKERS: integer(
    "IMAGE_WORKERS",
    1,
    64,
    Math.min(64, globalThis.navigator?.hardwareConcurrency ?? 1),
  ),
  IMAGE_QUEUE_LIMIT: integer("IMAGE_QUEUE_LIMIT", 0, 100_000, 64),
  IMAGE_TIMEOUT_MS: integer("IMAGE_TIMEOUT_MS", 100, 3_600_000, 30_000),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `Expected one of ${LOG_LEVELS.join(", ")} for LOG_LEVEL` })
    .default("info"),
});

export type Config = {
  host: string;
  port: number;
  /** Unset: the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where upload bodies are spooled; unset: `<dataDir>/tmp`. */
  tempImageDir: string;
  limits: Limits;
  workers: WorkerSettings;
  logLevel: LogLevel;
};

export type WorkerSettings = {
  /** Image worker threads; default: one per CPU core. */
  size: number;
  /** Jobs that may wait for a worker before the API answers 503. */
  queueLimit: number;
  timeoutMs: number;
};

export type Limits = {
  maxUploadBytes: number;
  maxBatchFiles: number;
  maxPixels: number;
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses the environment into a typed configuration, or throws a ConfigError whose message names
 * every offending variable and what it allows.
 *
 * @example
 * const config = loadConfig({ PORT: "8080" }); // config.port === 8080
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable (FOO= in an env file) means "not set", as it does for most tools.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      return `${name}: ${issue.message} (received ${JSON.stringify(present[name] ?? null)})`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const dataDir = e.DATA_DIR.replace(/\/+$/, "");
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    tempImageDir: e.TEMP_IMAGE_DIR ?? `${dataDir}/tmp`,
    limits: {
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxBatchFiles: e.MAX_BATCH_FILES,
      maxPixels: e.MAX_PIXELS,
    },
    workers: {
      size: e.IMAGE_WORKERS,
      queueLimit: e.IMAGE_QUEUE_LIMIT,
      timeoutMs: e.IMAGE_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL,
  };
}
