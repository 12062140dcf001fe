import { z } from "zod";
import { isHostName, parseCidr, parseIp } from "./notify/address-policy.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const anInteger = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `Expected an integer between ${min} and ${max} for ${name}` })
    .int(`Expected an integer between ${min} and ${max} for ${name}`)
    .min(min, `Expected an integer between ${min} and ${max} for ${name}`)
    .max(max, `Expected an integer between ${min} and ${max} for ${name}`);

const integer = (name: string, min: number, max: number, fallback: number) =>
  anInteger(name, min, max).default(fallback);

const flag = (name: string) =>
  z
    .enum(["true", "false", "1", "0"], { error: `Expected true, false, 1 or 0 for ${name}` })
    .transform((v) => v === "true" || v === "1")
    .default(false);

export type SigningKeySetting = { kid: string; secret: string };

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_SECRET = 32;

/** `kid1:secret1,kid2:secret2`: the first signs, all verify (so a key can be rotated in). */
const jwtKeys = z.string().transform((raw, ctx): SigningKeySetting[] => {
  const keys: SigningKeySetting[] = [];
  for (const entry of raw.split(",")) {
    const at = entry.indexOf(":");
    const kid = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at < 0 || !KID.test(kid) || secret.length < MIN_SECRET) {
      ctx.addIssue({
        code: "custom",
        message: `Expected kid:secret pairs separated by commas for JWT_KEYS, each kid 1–64 of A–Z a–z 0–9 . _ - and each secret at least ${MIN_SECRET} characters`,
      });
      return z.NEVER;
    }
    if (keys.some((k) => k.kid === kid)) {
      ctx.addIssue({
        code: "custom",
        message: `Expected distinct key ids in JWT_KEYS (${kid} twice)`,
      });
      return z.NEVER;
    }
    keys.push({ kid, secret });
  }
  return keys;
});

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `a, b,c` → ["a", "b", "c"], lower-cased (host names and CIDRs compare that way). */
const commaList = (name: string, check: (entry: string) => boolean, expected: string) =>
  z
    .string()
    .transform((raw) =>
      raw
        .split(",")
        .map((v) => v.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((entries) => entries.every(check), `Expected ${expected} for ${name}`);

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
  // No default here: it follows IMAGE_WORKERS.
  IMAGE_WORKERS_PER_USER: anInteger("IMAGE_WORKERS_PER_USER", 1, 64).optional(),
  IMAGE_QUEUE_PER_USER: integer("IMAGE_QUEUE_PER_USER", 0, 100_000, 16),
  MAX_INFLIGHT_BYTES: integer("MAX_INFLIGHT_BYTES", 1, Number.MAX_SAFE_INTEGER, 256 * MiB),
  COMPUTE_BUDGET_SECONDS: integer("COMPUTE_BUDGET_SECONDS", 0, 86_400, 120),
  SHUTDOWN_TIMEOUT_MS: integer("SHUTDOWN_TIMEOUT_MS", 100, 600_000, 10_000),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `Expected one of ${LOG_LEVELS.join(", ")} for LOG_LEVEL` })
    .default("info"),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, "Expected an http:// or https:// URL for PUBLIC_URL")
    .optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "Expected an smtp:// or smtps:// URL for SMTP_URL")
    .optional(),
  MAIL_FROM: z.string().min(3).default("Pictor <pictor@localhost>"),
  NOTIFY_MAX_ATTEMPTS: integer("NOTIFY_MAX_ATTEMPTS", 1, 100, 5),
  NOTIFY_BACKOFF_MS: integer("NOTIFY_BACKOFF_MS", 1, 86_400_000, 30_000),
  NOTIFY_BACKOFF_MAX_MS: integer("NOTIFY_BACKOFF_MAX_MS", 1, 7 * 86_400_000, 3_600_000),
  NOTIFY_TIMEOUT_MS: integer("NOTIFY_TIMEOUT_MS", 100, 600_000, 15_000),
  NOTIFY_POLL_MS: integer("NOTIFY_POLL_MS", 10, 600_000, 1000),
  NOTIFY_ATTACH_MAX_FILES: integer("NOTIFY_ATTACH_MAX_FILES", 0, 100, 5),
  NOTIFY_ATTACH_MAX_BYTES: integer("NOTIFY_ATTACH_MAX_BYTES", 0, 2 ** 31 - 1, 5 * MiB),
  WEBHOOK_ALLOW_HTTP_HOSTS: commaList(
    "WEBHOOK_ALLOW_HTTP_HOSTS",
    (h) => isHostName(h) || parseIp(h) !== null,
    "host names or IP addresses separated by commas",
  ).optional(),
  WEBHOOK_ALLOW_PRIVATE: commaList(
    "WEBHOOK_ALLOW_PRIVATE",
    (h) => h === "*" || parseCidr(h) !== null || isHostName(h),
    "CIDRs (10.0.0.0/8, fc00::/7), IP addresses, host names or * separated by commas",
  ).optional(),
  JWT_KEYS: jwtKeys.optional(),
  JWT_TTL_SECONDS: integer("JWT_TTL_SECONDS", 60, 30 * 86_400, 3600),
  ADMIN_EMAIL: z.email("Expected an email address for ADMIN_EMAIL").optional(),
  ADMIN_PASSWORD: z.string().optional(),
  TRUST_PROXY: flag("TRUST_PROXY"),
  MAX_USER_BYTES: integer("MAX_USER_BYTES", 1, Number.MAX_SAFE_INTEGER, 10 * GiB),
  MAX_USER_IMAGES: integer("MAX_USER_IMAGES", 1, 1_000_000_000, 100_000),
  RATE_LIMIT_REQUESTS: integer("RATE_LIMIT_REQUESTS", 0, 1_000_000, 600),
  RATE_LIMIT_WINDOW_SECONDS: integer("RATE_LIMIT_WINDOW_SECONDS", 1, 86_400, 60),
  SIGNUP_RATE_LIMIT: integer("SIGNUP_RATE_LIMIT", 0, 1_000_000, 10),
  SIGNUP_RATE_WINDOW_SECONDS: integer("SIGNUP_RATE_WINDOW_SECONDS", 1, 86_400, 3600),
  AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, "Expected an amqp:// or amqps:// URL for AMQP_URL")
    .optional(),
  WORKER_SECRET: z.string().min(32, "Expected at least 32 characters for WORKER_SECRET").optional(),
  AMQP_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, "Expected 1–100 of A–Z a–z 0–9 . _ - for AMQP_QUEUE_PREFIX")
    .default("pictor"),
  JOB_MAX_ATTEMPTS: integer("JOB_MAX_ATTEMPTS", 1, 20, 3),
  // No default here: it follows IMAGE_WORKERS.
  JOB_CONCURRENCY: z.coerce
    .number({ error: "Expected an integer between 1 and 256 for JOB_CONCURRENCY" })
    .int("Expected an integer between 1 and 256 for JOB_CONCURRENCY")
    .min(1, "Expected an integer between 1 and 256 for JOB_CONCURRENCY")
    .max(256, "Expected an integer between 1 and 256 for JOB_CONCURRENCY")
    .optional(),
  JOB_RETRY_BASE_MS: integer("JOB_RETRY_BASE_MS", 1, 3_600_000, 1000),
  JOB_LEASE_MS: integer("JOB_LEASE_MS", 1000, 86_400_000, 60_000),
  JOB_POLL_MS: integer("JOB_POLL_MS", 10, 60_000, 500),
  JOB_MESSAGE_MAX_AGE_MS: integer("JOB_MESSAGE_MAX_AGE_MS", 1000, 30 * 86_400_000, 86_400_000),
});

/** Never echoed back in a configuration error. */
const SECRET_VARIABLES = new Set([
  "JWT_KEYS",
  "ADMIN_PASSWORD",
  "DATABASE_URL",
  "SMTP_URL",
  "WORKER_SECRET",
  "AMQP_URL",
]);

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
  auth: AuthSettings;
  rateLimits: RateLimitSettings;
  jobs: JobSettings;
  /** Base of the links in notifications (emails, webhooks). */
  publicUrl: string;
  notifications: NotificationSettings;
  webhooks: WebhookSettings;
  logLevel: LogLevel;
  /** After SIGTERM: how long in-flight requests may take before everything is closed anyway. */
  shutdownTimeoutMs: number;
};

/** Background jobs: their transport (RabbitMQ or in-process) and retry policy. */
export type JobSettings = {
  /** Set: items travel over RabbitMQ to `npm run worker` processes. Unset: in-process. */
  amqpUrl: string | undefined;
  /** Signs queue messages; required with AMQP_URL, a random one per process otherwise. */
  workerSecret: string;
  queuePrefix: string;
  maxAttempts: number;
  /** Items one process runs at once; default: IMAGE_WORKERS. */
  concurrency: number;
  retryBaseMs: number;
  /** In-process claims: how long before a dead process's items are taken again. */
  leaseMs: number;
  pollMs: number;
  messageMaxAgeMs: number;
};

export type AuthSettings = {
  /** The first signs, all verify. Empty: a key generated once and kept in the database. */
  jwtKeys: SigningKeySetting[];
  tokenTtlSeconds: number;
  /** Created (or promoted to admin) at start. */
  admin: { email: string; password: string } | null;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
};

/** A budget of `requests` per `windowSeconds`; 0 requests turns the limit off. */
export type RateLimitSettings = {
  /** Write and compute requests per principal (user or API key). */
  requests: number;
  windowSeconds: number;
  /** Signups per client address. */
  signups: number;
  signupWindowSeconds: number;
};

export type NotificationSettings = {
  /** Unset: emails are written to the outbox table (GET /v1/me/outbox) and logged. */
  smtpUrl: string | undefined;
  mailFrom: string;
  maxAttempts: number;
  backoffMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  pollMs: number;
  attachMaxFiles: number;
  attachMaxBytes: number;
};

export type WebhookSettings = {
  /** Hosts that webhooks may reach over plain http. */
  allowHttpHosts: string[];
  /** CIDRs, addresses, host names or `*`: non-public targets allowed anyway. */
  allowPrivate: string[];
};

export type WorkerSettings = {
  /** Image worker threads; default: one per CPU core. */
  size: number;
  /** Jobs that may wait for a worker before the API answers 503. */
  queueLimit: number;
  timeoutMs: number;
  admission: {
    /** One user's tasks that run at once; default: half the workers, at least one. */
    perUser: number;
    /** One user's tasks that may wait; beyond it 429. */
    perUserQueue: number;
    /** Original bytes read or held by running tasks, all together. */
    maxInflightBytes: number;
    /** Milliseconds of image work per user per window; 0: no budget. */
    computeBudgetMs: number;
    windowMs: number;
  };
};

export type Limits = {
  maxUploadBytes: number;
  maxBatchFiles: number;
  maxPixels: number;
  /** Quota: stored bytes of one user's images (originals and derived). */
  maxUserBytes: number;
  /** Quota: one user's images (originals and derived). */
  maxUserImages: number;
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
      const received = SECRET_VARIABLES.has(name)
        ? "a value not shown"
        : JSON.stringify(present[name] ?? null);
      return `${name}: ${issue.message} (received ${received})`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if ((e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError(
      "Invalid configuration:\n  ADMIN_EMAIL and ADMIN_PASSWORD: Expected both or neither",
    );
  }
  if (e.AMQP_URL !== undefined && e.WORKER_SECRET === undefined) {
    throw new ConfigError(
      "Invalid configuration:\n  WORKER_SECRET: Expected a secret of at least 32 characters when AMQP_URL is set (workers verify every message with it)",
    );
  }
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
      maxUserBytes: e.MAX_USER_BYTES,
      maxUserImages: e.MAX_USER_IMAGES,
    },
    workers: {
      size: e.IMAGE_WORKERS,
      queueLimit: e.IMAGE_QUEUE_LIMIT,
      timeoutMs: e.IMAGE_TIMEOUT_MS,
      admission: {
        perUser: e.IMAGE_WORKERS_PER_USER ?? Math.ceil(e.IMAGE_WORKERS / 2),
        perUserQueue: e.IMAGE_QUEUE_PER_USER,
        maxInflightBytes: e.MAX_INFLIGHT_BYTES,
        computeBudgetMs: e.COMPUTE_BUDGET_SECONDS * 1000,
        windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      },
    },
    auth: {
      jwtKeys: e.JWT_KEYS ?? [],
      tokenTtlSeconds: e.JWT_TTL_SECONDS,
      admin:
        e.ADMIN_EMAIL && e.ADMIN_PASSWORD
          ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD }
          : null,
      trustProxy: e.TRUST_PROXY,
    },
    rateLimits: {
      requests: e.RATE_LIMIT_REQUESTS,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      signups: e.SIGNUP_RATE_LIMIT,
      signupWindowSeconds: e.SIGNUP_RATE_WINDOW_SECONDS,
    },
    jobs: {
      amqpUrl: e.AMQP_URL,
      // Without a broker no message leaves the process, so a throwaway secret is enough.
      workerSecret: e.WORKER_SECRET ?? crypto.randomUUID() + crypto.randomUUID(),
      queuePrefix: e.AMQP_QUEUE_PREFIX,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      concurrency: e.JOB_CONCURRENCY ?? e.IMAGE_WORKERS,
      retryBaseMs: e.JOB_RETRY_BASE_MS,
      leaseMs: e.JOB_LEASE_MS,
      pollMs: e.JOB_POLL_MS,
      messageMaxAgeMs: e.JOB_MESSAGE_MAX_AGE_MS,
    },
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    notifications: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      backoffMs: e.NOTIFY_BACKOFF_MS,
      backoffMaxMs: e.NOTIFY_BACKOFF_MAX_MS,
      timeoutMs: e.NOTIFY_TIMEOUT_MS,
      pollMs: e.NOTIFY_POLL_MS,
      attachMaxFiles: e.NOTIFY_ATTACH_MAX_FILES,
      attachMaxBytes: e.NOTIFY_ATTACH_MAX_BYTES,
    },
    webhooks: {
      allowHttpHosts: e.WEBHOOK_ALLOW_HTTP_HOSTS ?? [],
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE ?? [],
    },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
