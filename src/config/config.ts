import { z } from "zod";
import { isHostName, parseCidr, parseIp } from "../core/lib/ip-addresses.ts";
import { rangeMessage } from "../core/lib/parameter-messages.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** The sections of docs/configuration.md, in this order. */
export const AREAS = {
  server: "Server",
  storage: "Database and storage",
  images: "Images and image workers",
  accounts: "Accounts",
  limits: "Quotas and rate limits",
  jobs: "Jobs",
  notifications: "Notifications",
  webhooks: "Webhooks",
  delivery: "Delivery to browsers and CDNs",
} as const;
export type Area = keyof typeof AREAS;

/** What docs/configuration.md shows of a variable (Markdown), besides its name. */
export type VariableDoc = {
  env: string;
  area: Area;
  /** What it does. */
  description: string;
  /** What a value may be. */
  allowed: string;
  /** The default as a reader should see it: `8000`, "unset", "CPU cores (≤ 64)". */
  shownDefault: string;
  /** Never echoed back in a configuration error. */
  secret: boolean;
};

/** A default that follows other variables reads their final values through this. */
type Read = <T>(variable: Variable<T>) => T;

/** One environment variable: how its text is parsed and checked, its default, its docs. */
export class Variable<T> {
  constructor(
    readonly doc: VariableDoc,
    /** Parses a set (non-empty) value; its messages name the variable and what it allows. */
    readonly schema: z.ZodType<T>,
    /** The value when unset; may read other variables, or refuse (see `refuse`). */
    readonly fallback: (read: Read) => T,
  ) {}
}

/** A value built from several variables at once (ADMIN_EMAIL with ADMIN_PASSWORD). */
export class Combined<T> {
  constructor(
    readonly parts: Readonly<Record<string, Variable<unknown>>>,
    readonly build: (values: Record<string, unknown>) => T,
  ) {}
}

type Settings = { readonly [key: string]: Variable<unknown> | Combined<unknown> | Settings };
type Infer<S> =
  S extends Variable<infer T>
    ? T
    : S extends Combined<infer T>
      ? T
      : { -readonly [K in keyof S]: Infer<S[K]> };

type Described = Omit<VariableDoc, "shownDefault" | "secret"> & { secret?: boolean };
// NoInfer: the schema alone decides the type (a default of "info" must not widen an enum).
type Default<T> =
  | { default: NoInfer<T>; shownDefault?: string }
  | { fallback: (read: Read) => NoInfer<T>; shownDefault: string };

/**
 * A variable with a default: a fixed `default` (shown as itself unless `shownDefault` says
 * otherwise), or a `fallback` computed from other variables, with `shownDefault` saying how.
 */
function setting<T>(spec: Described & { schema: z.ZodType<T> } & Default<T>): Variable<T> {
  const { env, area, description, allowed, secret = false, schema } = spec;
  const [fallback, shownDefault] =
    "default" in spec
      ? [() => spec.default, spec.shownDefault ?? `\`${String(spec.default)}\``]
      : [spec.fallback, spec.shownDefault];
  return new Variable({ env, area, description, allowed, shownDefault, secret }, schema, fallback);
}

/** A variable without a default: `undefined` when unset. */
function optional<T>(spec: Described & { schema: z.ZodType<T> }): Variable<T | undefined> {
  return setting<T | undefined>({ ...spec, default: undefined, shownDefault: "unset" });
}

/** One value from several variables, e.g. `admin` from ADMIN_EMAIL and ADMIN_PASSWORD. */
function combine<P extends Readonly<Record<string, Variable<unknown>>>, T>(
  parts: P,
  build: (values: { [K in keyof P]: Infer<P[K]> }) => T,
): Combined<T> {
  // The loader hands `build` each part's value under the part's key, as the mapped type says.
  return new Combined(parts, build as (values: Record<string, unknown>) => T);
}

/** Stops loading with a message naming the variable(s) and what they need. */
function refuse(line: string): never {
  throw new ConfigError(`Invalid configuration:\n  ${line}`);
}

/** Units whose round values read better with a name: 26214400 (25 MiB), 86400000 (24 h). */
type Unit = "bytes" | "ms" | "seconds";

const SCALES: Record<"bytes" | "time", [size: number, name: string, from: number][]> = {
  bytes: [
    [GiB, "GiB", GiB],
    [MiB, "MiB", MiB],
    [KiB, "KiB", KiB],
  ],
  // Days from two on: "24 h" reads better than "1 days".
  time: [
    [DAY, "days", 2 * DAY],
    [HOUR, "h", HOUR],
    [MINUTE, "min", MINUTE],
    [SECOND, "s", SECOND],
  ],
};

function inUnits(value: number, unit: Unit): string {
  const amount = unit === "seconds" ? value * SECOND : value;
  const scale = SCALES[unit === "bytes" ? "bytes" : "time"].find(
    ([size, , from]) => amount >= from && amount % size === 0,
  );
  return scale ? ` (${amount / scale[0]} ${scale[1]})` : "";
}

/** An integer from `min` to `max`; "Expected an integer between 1 and 100 for NAME" otherwise. */
function integer(
  spec: Omit<Described, "allowed"> & { min: number; max: number; unit?: Unit } & Default<number>,
): Variable<number> {
  const { env, min, max, unit } = spec;
  const message = rangeMessage("integer", env, min, max);
  const schema = z.coerce
    .number({ error: message })
    .int(message)
    .min(min, message)
    .max(max, message);
  const withUnit = (value: number, code = "") =>
    `${code}${value}${code}${unit ? inUnits(value, unit) : ""}`;
  const shownDefault =
    "default" in spec ? (spec.shownDefault ?? withUnit(spec.default, "`")) : spec.shownDefault;
  return setting({ ...spec, schema, allowed: `${min}–${withUnit(max)}`, shownDefault });
}

/** `true`, `false`, `1` or `0`; false when unset. */
function flag(spec: Omit<Described, "allowed">): Variable<boolean> {
  return setting({
    ...spec,
    allowed: "`true`, `false`, `1`, `0`",
    schema: z
      .enum(["true", "false", "1", "0"], { error: `Expected true, false, 1 or 0 for ${spec.env}` })
      .transform((v) => v === "true" || v === "1"),
    default: false,
  });
}

/** `a, b,c` → ["a", "b", "c"], lower-cased (host names and CIDRs compare that way); [] when unset. */
function commaList(
  spec: Described & { check: (entry: string) => boolean; expected: string },
): Variable<string[]> {
  return setting({
    ...spec,
    schema: z
      .string()
      .transform((raw) =>
        raw
          .split(",")
          .map((v) => v.trim().toLowerCase())
          .filter(Boolean),
      )
      .refine((entries) => entries.every(spec.check), `Expected ${spec.expected} for ${spec.env}`),
    default: [],
    shownDefault: "none",
  });
}

/** A URL whose scheme is one of `schemes`: "Expected an smtp:// or smtps:// URL for SMTP_URL". */
function url(env: string, schemes: [string, string], pattern: RegExp) {
  return z
    .string()
    .regex(pattern, `Expected an ${schemes[0]}:// or ${schemes[1]}:// URL for ${env}`);
}

export type SigningKeySetting = { kid: string; secret: string };

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_SECRET = 32;

/** `kid1:secret1,kid2:secret2`: the first signs, all verify (so a key can be rotated in). */
const signingKeys = (env: string) =>
  z.string().transform((raw, ctx): SigningKeySetting[] => {
    const keys: SigningKeySetting[] = [];
    for (const entry of raw.split(",")) {
      const at = entry.indexOf(":");
      const kid = entry.slice(0, at).trim();
      const secret = entry.slice(at + 1).trim();
      if (at < 0 || !KID.test(kid) || secret.length < MIN_SECRET) {
        ctx.addIssue({
          code: "custom",
          message: `Expected kid:secret pairs separated by commas for ${env}, each kid 1–64 of A–Z a–z 0–9 . _ - and each secret at least ${MIN_SECRET} characters`,
        });
        return z.NEVER;
      }
      if (keys.some((k) => k.kid === kid)) {
        ctx.addIssue({
          code: "custom",
          message: `Expected distinct key ids in ${env} (${kid} twice)`,
        });
        return z.NEVER;
      }
      keys.push({ kid, secret });
    }
    return keys;
  });

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Variables that another variable's default follows are named here, so `read` can reach them.
const PORT = integer({
  env: "PORT",
  area: "server",
  min: 0,
  max: 65535,
  default: 8000,
  description: "TCP port; 0 picks a free one.",
});
const DATA_DIR = setting({
  env: "DATA_DIR",
  area: "storage",
  schema: z.string().transform((dir) => dir.replace(/\/+$/, "")),
  default: "./data",
  allowed: "a path",
  description: "Where the embedded database and the upload spool live.",
});
const IMAGE_WORKERS = integer({
  env: "IMAGE_WORKERS",
  area: "images",
  min: 1,
  max: 64,
  default: Math.min(64, globalThis.navigator?.hardwareConcurrency ?? 1),
  shownDefault: "CPU cores (≤ 64)",
  description:
    "Worker threads that decode, process and encode. Each keeps its codecs' memory and up to 64 MiB of its last task's rasters for the next (filling kept memory is cheaper than touching new).",
});
const WORKER_METRICS_PORT = rangeMessage("integer", "WORKER_METRICS_PORT", 0, 65535);
const AMQP_URL = optional({
  env: "AMQP_URL",
  area: "jobs",
  secret: true,
  schema: url("AMQP_URL", ["amqp", "amqps"], /^amqps?:\/\//),
  allowed: "`amqp://…`, `amqps://…`",
  description:
    "`amqp://user:pass@host:5672/vhost`: jobs travel over RabbitMQ to `npm run worker` processes (needs `DATABASE_URL`). Unset: the API runs them in-process.",
});

/**
 * Every environment variable Pictor reads, in the shape of `Config`: each leaf is one variable
 * with its parser, default and documentation, so the types, the nesting the code uses and
 * docs/configuration.md (`npm run docs:config`) all come from here. A variable not here is not
 * read.
 *
 * To add one, put one entry where its value belongs, e.g. in `limits`:
 *
 *   maxInflightBytes: integer({ env: "MAX_INFLIGHT_BYTES", area: "images", min: 1,
 *     max: 2 ** 31 - 1, default: 256 * MiB, unit: "bytes", description: "…" }),
 *
 * then run `npm run docs:config`; `config.limits.maxInflightBytes` is typed from the entry.
 * `integer`, `flag`, `commaList`, `optional` (no default) and `setting` (any zod schema) make
 * entries; `area` is the section of the docs (AREAS). A default that follows another variable is
 * a `fallback` reading it, that variable being a named constant above; `combine` makes one value
 * of several variables.
 */
const SETTINGS = {
  host: setting({
    env: "HOST",
    area: "server",
    schema: z.string(),
    default: "127.0.0.1",
    allowed: "a host name or address",
    description: "Interface to listen on (`0.0.0.0` in containers).",
  }),
  port: PORT,
  databaseUrl: optional({
    env: "DATABASE_URL",
    area: "storage",
    secret: true,
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "Expected a postgres:// or postgresql:// URL for DATABASE_URL"),
    allowed: "`postgres://…`, `postgresql://…`",
    description: "A Postgres server. Unset: the embedded PGlite database under `DATA_DIR/pglite`.",
  }),
  dataDir: DATA_DIR,
  edgeMemoryProbe: flag({
    env: "EDGE_MEMORY_PROBE",
    area: "server",
    description:
      "Edge only, for tests: each response carries `X-Wasm-Memory`, the WebAssembly memory of every codec and of argon2 (edge.md).",
  }),
  tempImageDir: setting({
    env: "TEMP_IMAGE_DIR",
    area: "storage",
    schema: z.string(),
    fallback: (read) => `${read(DATA_DIR)}/tmp`,
    shownDefault: "`DATA_DIR/tmp`",
    allowed: "a path",
    description:
      "Spool directory: upload bodies are streamed here (and hashed) before the database write; a killed process's partial files are removed at the next start.",
  }),
  blobs: combine(
    {
      store: setting({
        env: "BLOB_STORE",
        area: "storage",
        schema: z.enum(["postgres", "s3"], { error: "Expected postgres or s3 for BLOB_STORE" }),
        default: "postgres",
        allowed: "`postgres`, `s3`",
        description:
          "Where image bytes (originals, derived images, cached renderings) are kept: in the database beside their records, or in an S3-compatible object store (S3, MinIO, R2) configured by the `S3_*` variables. Postgres keeps the metadata either way; `npm run cli -- move-blobs --to s3|postgres` moves an installation's bytes.",
      }),
      endpoint: optional({
        env: "S3_ENDPOINT",
        area: "storage",
        schema: z
          .string()
          .regex(/^https?:\/\/[^/]/, "Expected an http:// or https:// URL for S3_ENDPOINT"),
        allowed: "`http://…`, `https://…`; needed with `BLOB_STORE=s3`",
        description:
          "The S3 service, e.g. `http://minio:9000` or `https://s3.eu-west-1.amazonaws.com`.",
      }),
      region: setting({
        env: "S3_REGION",
        area: "storage",
        schema: z
          .string()
          .regex(/^[a-z0-9-]+$/, "Expected a region name such as us-east-1 for S3_REGION"),
        default: "us-east-1",
        allowed: "a region name",
        description:
          "The region requests are signed for (MinIO and R2 accept `us-east-1`; R2 also `auto`).",
      }),
      bucket: optional({
        env: "S3_BUCKET",
        area: "storage",
        schema: z
          .string()
          .regex(
            /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            "Expected a bucket name (3–63 of a–z 0–9 . -) for S3_BUCKET",
          ),
        allowed: "a bucket name; needed with `BLOB_STORE=s3`",
        description:
          "The bucket, which must exist: the server checks it, and its credentials, at start.",
      }),
      accessKeyId: optional({
        env: "S3_ACCESS_KEY_ID",
        area: "storage",
        secret: true,
        schema: z.string(),
        allowed: "a key id; needed with `BLOB_STORE=s3`",
        description: "The access key the requests are signed with.",
      }),
      secretAccessKey: optional({
        env: "S3_SECRET_ACCESS_KEY",
        area: "storage",
        secret: true,
        schema: z.string(),
        allowed: "a secret; needed with `BLOB_STORE=s3`",
        description: "The secret of `S3_ACCESS_KEY_ID`.",
      }),
      forcePathStyle: setting({
        env: "S3_FORCE_PATH_STYLE",
        area: "storage",
        schema: z
          .enum(["true", "false", "1", "0"], {
            error: "Expected true, false, 1 or 0 for S3_FORCE_PATH_STYLE",
          })
          .transform((v) => v === "true" || v === "1"),
        default: true,
        allowed: "`true`, `false`, `1`, `0`",
        description:
          "Address the bucket as `endpoint/bucket/key` (MinIO) rather than `bucket.endpoint/key` (AWS).",
      }),
      prefix: setting({
        env: "S3_PREFIX",
        area: "storage",
        schema: z
          .string()
          .regex(
            /^[^/].*\/$/,
            "Expected a key prefix ending in / (and not starting with one) for S3_PREFIX",
          ),
        default: "",
        shownDefault: "none",
        allowed: "a key prefix ending in `/`, e.g. `pictor/`",
        description:
          "Put before every key, so several installations can share one bucket; the blobs are under `<prefix>blobs/<sha256>`.",
      }),
      downloads: setting({
        env: "S3_DOWNLOADS",
        area: "storage",
        schema: z.enum(["proxy", "redirect"], {
          error: "Expected proxy or redirect for S3_DOWNLOADS",
        }),
        default: "proxy",
        allowed: "`proxy`, `redirect`",
        description:
          "`redirect`: `GET /v1/images/{id}/file` of a blob in the object store answers 302 to a presigned URL valid for 5 minutes, so the bytes do not pass through the API; `proxy` streams them.",
      }),
      gcIntervalSeconds: integer({
        env: "BLOB_GC_INTERVAL_SECONDS",
        area: "storage",
        min: 0,
        max: 7 * 86_400,
        default: 3600,
        unit: "seconds",
        description:
          "With `BLOB_STORE=s3`, the API server deletes the objects no record needs (left by a killed upload, or by a deleted image) this often; 0: only `npm run cli -- gc-blobs` does.",
      }),
    },
    ({
      store,
      downloads,
      gcIntervalSeconds,
      endpoint,
      bucket,
      accessKeyId,
      secretAccessKey,
      ...rest
    }) => {
      const needed = {
        S3_ENDPOINT: endpoint,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: accessKeyId,
        S3_SECRET_ACCESS_KEY: secretAccessKey,
      };
      const missing = Object.keys(needed).filter((name) => !needed[name as keyof typeof needed]);
      const s3 =
        endpoint && bucket && accessKeyId && secretAccessKey
          ? { endpoint, bucket, accessKeyId, secretAccessKey, ...rest }
          : null;
      if (store === "s3" && !s3) refuse(`BLOB_STORE=s3 needs ${missing.join(", ")} (unset)`);
      return { store, s3, downloads, gcIntervalSeconds };
    },
  ),
  limits: {
    maxUploadBytes: integer({
      env: "MAX_UPLOAD_BYTES",
      area: "images",
      min: 1,
      max: 2 ** 31 - 1,
      default: 25 * MiB,
      unit: "bytes",
      description: "Largest accepted file; a larger one is refused with 413 while it streams.",
    }),
    maxBatchFiles: integer({
      env: "MAX_BATCH_FILES",
      area: "images",
      min: 1,
      max: 10_000,
      default: 50,
      description: "Most files in one upload request; the rest are refused with 413, not stored.",
    }),
    maxPixels: integer({
      env: "MAX_PIXELS",
      area: "images",
      min: 1,
      max: 2 ** 31 - 1,
      default: 50_000_000,
      description:
        "Largest width × height, read from the file header before any pixel is decoded (422); also caps a transform's output.",
    }),
    maxUserBytes: integer({
      env: "MAX_USER_BYTES",
      area: "limits",
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      default: 10 * GiB,
      unit: "bytes",
      description:
        "Quota: bytes of everything stored for one user: images (originals and derived), cached renderings and analyses, segmentations. What would store more past it is refused (413), nothing stored; what is stored is still served.",
    }),
    maxUserImages: integer({
      env: "MAX_USER_IMAGES",
      area: "limits",
      min: 1,
      max: 1_000_000_000,
      default: 100_000,
      description: "Quota: one user's images, originals and derived (403 past it).",
    }),
  },
  workers: {
    size: IMAGE_WORKERS,
    queueLimit: integer({
      env: "IMAGE_QUEUE_LIMIT",
      area: "images",
      min: 0,
      max: 100_000,
      default: 64,
      description:
        "Image tasks that may wait for a worker; past that the API answers 503 with `Retry-After`.",
    }),
    timeoutMs: integer({
      env: "IMAGE_TIMEOUT_MS",
      area: "images",
      min: 100,
      max: 3_600_000,
      default: 30_000,
      unit: "ms",
      description: "Time limit of one image task; the worker is replaced and the request gets 503.",
    }),
    admission: {
      perUser: integer({
        env: "IMAGE_WORKERS_PER_USER",
        area: "images",
        min: 1,
        max: 64,
        fallback: (read) => Math.ceil(read(IMAGE_WORKERS) / 2),
        shownDefault: "half of `IMAGE_WORKERS`",
        description:
          "One user's image tasks that run at once (at least 1), so nobody holds every worker; their further tasks wait in line, holding no image bytes while they wait.",
      }),
      perUserQueue: integer({
        env: "IMAGE_QUEUE_PER_USER",
        area: "images",
        min: 0,
        max: 100_000,
        default: 16,
        description:
          "One user's image tasks that may wait for their turn; past that 429 with `Retry-After` (`IMAGE_QUEUE_LIMIT` bounds everyone's together, with 503).",
      }),
      maxInflightBytes: integer({
        env: "MAX_INFLIGHT_BYTES",
        area: "images",
        min: 1,
        max: Number.MAX_SAFE_INTEGER,
        default: 256 * MiB,
        unit: "bytes",
        description:
          "Original bytes that running image tasks may read and hold at once; the next task waits until it fits (a larger original runs alone).",
      }),
      computeBudgetSeconds: integer({
        env: "COMPUTE_BUDGET_SECONDS",
        area: "images",
        min: 0,
        max: 86_400,
        default: 120,
        description:
          "Seconds of image work (original read included) one user may use per `RATE_LIMIT_WINDOW_SECONDS`; past it 429 with `Retry-After`; 0: no budget. Job items refused by admission (429/503) are retried as failed attempts.",
      }),
    },
  },
  auth: {
    jwtKeys: setting({
      env: "JWT_KEYS",
      area: "accounts",
      secret: true,
      schema: signingKeys("JWT_KEYS"),
      default: [],
      shownDefault: "unset",
      allowed: `\`kid:secret\` pairs, comma-separated; kid 1–64 of \`A–Z a–z 0–9 . _ -\`, secret ≥ ${MIN_SECRET} characters`,
      description:
        "The first key signs access tokens, all verify (rotation: put the new key first, drop the old one once its tokens have expired). Unset: a key generated once and kept in the database (table `signing_keys`), with a warning at start.",
    }),
    tokenTtlSeconds: integer({
      env: "JWT_TTL_SECONDS",
      area: "accounts",
      min: 60,
      max: 30 * 86_400,
      default: 3600,
      unit: "seconds",
      description: "Lifetime of an access token.",
    }),
    admin: combine(
      {
        email: optional({
          env: "ADMIN_EMAIL",
          area: "accounts",
          schema: z.email("Expected an email address for ADMIN_EMAIL"),
          allowed: "an email address; with `ADMIN_PASSWORD` or not at all",
          description:
            "At start this account is created as an admin, or an existing one made an enabled admin (its password is left as it is).",
        }),
        password: optional({
          env: "ADMIN_PASSWORD",
          area: "accounts",
          secret: true,
          schema: z.string(),
          allowed: "12–1024 characters, not a common one; with `ADMIN_EMAIL` or not at all",
          description: "The password of the `ADMIN_EMAIL` account when it is created.",
        }),
      },
      ({ email, password }) => {
        if ((email === undefined) !== (password === undefined)) {
          refuse("ADMIN_EMAIL and ADMIN_PASSWORD: Expected both or neither");
        }
        return email !== undefined && password !== undefined ? { email, password } : null;
      },
    ),
    trustProxy: flag({
      env: "TRUST_PROXY",
      area: "server",
      description:
        "Take the client address (signup and login limits) from the last `X-Forwarded-For` entry. Only behind a proxy that sets it.",
    }),
  },
  /** A budget of requests per window; 0 requests turns the limit off. */
  rateLimits: {
    requests: integer({
      env: "RATE_LIMIT_REQUESTS",
      area: "limits",
      min: 0,
      max: 1_000_000,
      default: 600,
      description:
        "Write and compute requests (every POST/PATCH/DELETE; renders, histograms, palettes, masks, `results.zip`) per user per window, all of the user's tokens and API keys together; 429 + `Retry-After` past it; also login attempts per address. Other reads are never limited. `0`: no limit.",
    }),
    windowSeconds: integer({
      env: "RATE_LIMIT_WINDOW_SECONDS",
      area: "limits",
      min: 1,
      max: 86_400,
      default: 60,
      unit: "seconds",
      description: "The window of `RATE_LIMIT_REQUESTS`.",
    }),
    signups: integer({
      env: "SIGNUP_RATE_LIMIT",
      area: "limits",
      min: 0,
      max: 1_000_000,
      default: 10,
      description: "Signups per client address per window (`0`: no limit).",
    }),
    signupWindowSeconds: integer({
      env: "SIGNUP_RATE_WINDOW_SECONDS",
      area: "limits",
      min: 1,
      max: 86_400,
      default: 3600,
      unit: "seconds",
      description: "The window of `SIGNUP_RATE_LIMIT`.",
    }),
  },
  redisUrl: optional({
    env: "REDIS_URL",
    area: "limits",
    secret: true,
    schema: url("REDIS_URL", ["redis", "rediss"], /^rediss?:\/\//),
    allowed: "`redis://…`, `rediss://…`",
    description:
      "A Redis server holding the rate limits' counters, shared by every API instance that uses it. Unset: in Postgres with `DATABASE_URL` (also shared), else in the process's memory.",
  }),
  /** Background jobs: their transport (RabbitMQ or in-process) and retry policy. */
  jobs: {
    amqpUrl: AMQP_URL,
    workerSecret: setting({
      env: "WORKER_SECRET",
      area: "jobs",
      secret: true,
      schema: z.string().min(32, "Expected at least 32 characters for WORKER_SECRET"),
      fallback: (read) => {
        if (read(AMQP_URL) !== undefined) {
          refuse(
            "WORKER_SECRET: Expected a secret of at least 32 characters when AMQP_URL is set (workers verify every message with it)",
          );
        }
        // Without a broker no message leaves the process, so a throwaway secret is enough.
        return crypto.randomUUID() + crypto.randomUUID();
      },
      shownDefault: "generated per process",
      allowed: "≥ 32 characters",
      description:
        "Required with `AMQP_URL`, the same for the API and every worker: the HMAC key of queue messages. Never logged.",
    }),
    queuePrefix: setting({
      env: "AMQP_QUEUE_PREFIX",
      area: "jobs",
      schema: z
        .string()
        .regex(
          /^[A-Za-z0-9._-]{1,100}$/,
          "Expected 1–100 of A–Z a–z 0–9 . _ - for AMQP_QUEUE_PREFIX",
        ),
      default: "pictor",
      allowed: "1–100 of `A–Z a–z 0–9 . _ -`",
      description: "Prefix of the queue names (`.work`, `.retry.<ms>`, `.dead`).",
    }),
    maxAttempts: integer({
      env: "JOB_MAX_ATTEMPTS",
      area: "jobs",
      min: 1,
      max: 20,
      default: 3,
      description: "Executions of one item (counting those whose worker died) before it fails.",
    }),
    concurrency: integer({
      env: "JOB_CONCURRENCY",
      area: "jobs",
      min: 1,
      max: 256,
      fallback: (read) => read(IMAGE_WORKERS),
      shownDefault: "`IMAGE_WORKERS`",
      description: "Job items one process runs at once; the RabbitMQ prefetch.",
    }),
    retryBaseMs: integer({
      env: "JOB_RETRY_BASE_MS",
      area: "jobs",
      min: 1,
      max: 3_600_000,
      default: 1000,
      unit: "ms",
      description: "Wait before an item's 2nd execution; doubles each time.",
    }),
    leaseMs: integer({
      env: "JOB_LEASE_MS",
      area: "jobs",
      min: 1000,
      max: 86_400_000,
      default: 60_000,
      unit: "ms",
      description:
        "In-process claims: how long a dead process's items wait before another takes them (renewed while running).",
    }),
    pollMs: integer({
      env: "JOB_POLL_MS",
      area: "jobs",
      min: 10,
      max: 60_000,
      default: 500,
      unit: "ms",
      description:
        "How often idle in-process workers and the outbox relay look for work when not notified.",
    }),
    messageMaxAgeMs: integer({
      env: "JOB_MESSAGE_MAX_AGE_MS",
      area: "jobs",
      min: 1000,
      max: 30 * 86_400_000,
      default: 86_400_000,
      unit: "ms",
      description:
        "A queue message older than this is refused (dead-lettered); retries are signed anew.",
    }),
  },
  publicUrl: setting({
    env: "PUBLIC_URL",
    area: "server",
    schema: z
      .string()
      .regex(
        /^https?:\/\/[^/?#]+(\/[^?#]*)?$/,
        "Expected an http:// or https:// URL for PUBLIC_URL",
      )
      .transform((base) => base.replace(/\/+$/, "")),
    fallback: (read) => `http://localhost:${read(PORT)}`,
    shownDefault: "`http://localhost:PORT`",
    allowed: "`http://…`, `https://…` (host, optional path)",
    description: "Base of the links in emails and webhook payloads (`…/v1/jobs/{id}`).",
  }),
  notifications: {
    smtpUrl: optional({
      env: "SMTP_URL",
      area: "notifications",
      secret: true,
      schema: url("SMTP_URL", ["smtp", "smtps"], /^smtps?:\/\//),
      allowed: "`smtp://…`, `smtps://…`",
      description:
        "`smtp://user:pass@host:587` or `smtps://…:465` (nodemailer URL). Unset: emails go to the outbox.",
    }),
    mailFrom: setting({
      env: "MAIL_FROM",
      area: "notifications",
      schema: z.string().min(3, "Expected at least 3 characters for MAIL_FROM"),
      default: "Pictor <pictor@localhost>",
      allowed: "≥ 3 characters",
      description: "The From header of notification emails.",
    }),
    maxAttempts: integer({
      env: "NOTIFY_MAX_ATTEMPTS",
      area: "notifications",
      min: 1,
      max: 100,
      default: 5,
      description:
        "Deliveries tried per notification (email or webhook) before it is marked failed.",
    }),
    backoffMs: integer({
      env: "NOTIFY_BACKOFF_MS",
      area: "notifications",
      min: 1,
      max: 86_400_000,
      default: 30_000,
      unit: "ms",
      description: "Wait before the 2nd attempt; doubles each attempt (with jitter).",
    }),
    backoffMaxMs: integer({
      env: "NOTIFY_BACKOFF_MAX_MS",
      area: "notifications",
      min: 1,
      max: 7 * 86_400_000,
      default: 3_600_000,
      unit: "ms",
      description: "Longest wait between two attempts.",
    }),
    timeoutMs: integer({
      env: "NOTIFY_TIMEOUT_MS",
      area: "notifications",
      min: 100,
      max: 600_000,
      default: 15_000,
      unit: "ms",
      description:
        "Limit of one SMTP wait (connect, greeting, each reply) or one webhook HTTP hop.",
    }),
    pollMs: integer({
      env: "NOTIFY_POLL_MS",
      area: "notifications",
      min: 10,
      max: 600_000,
      default: 1000,
      unit: "ms",
      description: "How often an idle dispatcher looks for due notifications.",
    }),
    attachMaxFiles: integer({
      env: "NOTIFY_ATTACH_MAX_FILES",
      area: "notifications",
      min: 0,
      max: 100,
      default: 5,
      description:
        "Results attached to an email when there are at most this many (0: never attach)…",
    }),
    attachMaxBytes: integer({
      env: "NOTIFY_ATTACH_MAX_BYTES",
      area: "notifications",
      min: 0,
      max: 2 ** 31 - 1,
      default: 5 * MiB,
      unit: "bytes",
      description: "…and they add up to at most this; otherwise the email links to `results.zip`.",
    }),
  },
  webhooks: {
    allowHttpHosts: commaList({
      env: "WEBHOOK_ALLOW_HTTP_HOSTS",
      area: "webhooks",
      check: (h) => isHostName(h) || parseIp(h) !== null,
      expected: "host names or IP addresses separated by commas",
      allowed: "host names or IP addresses, comma-separated",
      description: "Hosts webhooks may reach over plain `http` (otherwise `https` only).",
    }),
    allowPrivate: commaList({
      env: "WEBHOOK_ALLOW_PRIVATE",
      area: "webhooks",
      check: (h) => h === "*" || parseCidr(h) !== null || isHostName(h),
      expected: "CIDRs (10.0.0.0/8, fc00::/7), IP addresses, host names or * separated by commas",
      allowed: "CIDRs (`10.0.0.0/8`, `fc00::/7`), addresses, host names or `*`, comma-separated",
      description: "Non-public webhook targets allowed anyway.",
    }),
  },
  delivery: {
    urlSigningKeys: setting({
      env: "URL_SIGNING_KEYS",
      area: "delivery",
      secret: true,
      schema: signingKeys("URL_SIGNING_KEYS"),
      default: [],
      shownDefault: "unset",
      allowed: `\`kid:secret\` pairs, comma-separated; kid 1–64 of \`A–Z a–z 0–9 . _ -\`, secret ≥ ${MIN_SECRET} characters`,
      description:
        "Keys of signed URLs (`POST /v1/signed-urls`, email links): the first signs, all verify; a URL signed with a key no longer listed is refused. Unset: a key generated once and kept in the database (table `url_signing_keys`).",
    }),
    signedUrlMaxTtlSeconds: integer({
      env: "SIGNED_URL_MAX_TTL_SECONDS",
      area: "delivery",
      min: 1,
      max: 10 * 31_536_000,
      default: 31_536_000,
      unit: "seconds",
      description: "The longest `expires_in` a signed URL may be given.",
    }),
    emailLinkTtlSeconds: integer({
      env: "EMAIL_LINK_TTL_SECONDS",
      area: "delivery",
      min: 60,
      max: 10 * 31_536_000,
      default: 7 * 86_400,
      unit: "seconds",
      description:
        "How long the links in a job email (the job, its items, `results.zip`) open without a credential.",
    }),
    corsOrigins: setting({
      env: "CORS_ORIGINS",
      area: "delivery",
      schema: z
        .string()
        .transform((raw) =>
          raw
            .split(",")
            .map((v) => v.trim().replace(/\/+$/, ""))
            .filter(Boolean),
        )
        .refine(
          (origins) =>
            origins.every((o) => o === "*" || /^https?:\/\/[^/?#\s]+$/i.test(o)) &&
            (origins.length === 1 || !origins.includes("*")),
          "Expected * or http(s)://host[:port] origins separated by commas for CORS_ORIGINS",
        ),
      default: [],
      shownDefault: "unset",
      allowed: "`*`, or origins like `https://app.example`, comma-separated",
      description:
        "Web pages on these origins may call the API (CORS); preflights are answered before authentication. Unset: no CORS headers.",
    }),
    memoryCacheBytes: integer({
      env: "MEMORY_CACHE_BYTES",
      area: "delivery",
      min: 0,
      max: 2 ** 40,
      default: 256 * MiB,
      unit: "bytes",
      description:
        "Bound of the in-memory cache of rendering and analysis hits, answered before Postgres (`0`: off). Entries of a deleted image are dropped on every instance.",
    }),
  },
  logLevel: setting({
    env: "LOG_LEVEL",
    area: "server",
    schema: z.enum(LOG_LEVELS, { error: `Expected one of ${LOG_LEVELS.join(", ")} for LOG_LEVEL` }),
    default: "info",
    allowed: LOG_LEVELS.map((level) => `\`${level}\``).join(", "),
    description: "Logs are JSON lines on stdout.",
  }),
  metricsToken: optional({
    env: "METRICS_TOKEN",
    area: "server",
    secret: true,
    schema: z.string().min(16, "Expected a token of at least 16 characters for METRICS_TOKEN"),
    allowed: "a token of 16 characters or more",
    description:
      "Prometheus scrapes `/metrics` (and a worker's `WORKER_METRICS_PORT`) with `Authorization: Bearer <token>`. Unset: `/metrics` is public.",
  }),
  workerMetricsPort: optional({
    env: "WORKER_METRICS_PORT",
    area: "jobs",
    schema: z.coerce
      .number({ error: WORKER_METRICS_PORT })
      .int(WORKER_METRICS_PORT)
      .min(0, WORKER_METRICS_PORT)
      .max(65535, WORKER_METRICS_PORT),
    allowed: "0–65535",
    description:
      "A job worker (`npm run worker`) serves its Prometheus metrics at `/metrics` on this port (on `HOST`); 0 picks a free one. Unset: none.",
  }),
  shutdownTimeoutMs: integer({
    env: "SHUTDOWN_TIMEOUT_MS",
    area: "server",
    min: 100,
    max: 600_000,
    default: 10_000,
    unit: "ms",
    description:
      "On SIGTERM/SIGINT new connections are refused, requests in flight get this long to finish, then everything is closed and the process exits.",
  }),
} satisfies Settings;

export type Config = Infer<typeof SETTINGS>;
export type Limits = Config["limits"];
export type WorkerSettings = Config["workers"];
export type AuthSettings = Config["auth"];
export type RateLimitSettings = Config["rateLimits"];
export type JobSettings = Config["jobs"];
export type NotificationSettings = Config["notifications"];
export type WebhookSettings = Config["webhooks"];
export type DeliverySettings = Config["delivery"];
export type BlobSettings = Config["blobs"];
/** An S3-compatible object store: set whenever its variables are (move-blobs reads it either way). */
export type S3Settings = NonNullable<BlobSettings["s3"]>;

function* variablesOf(node: Settings[string]): Generator<Variable<unknown>> {
  if (node instanceof Variable) yield node;
  else if (node instanceof Combined) yield* Object.values(node.parts);
  else for (const child of Object.values(node)) yield* variablesOf(child);
}

/** Every variable, in the order of the settings (and of configuration errors). */
export const VARIABLES: readonly Variable<unknown>[] = [...variablesOf(SETTINGS)];
const READ = new Set(VARIABLES);

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
  const values = new Map<Variable<unknown>, unknown>();
  const problems: string[] = [];
  for (const variable of VARIABLES) {
    const { env: name, secret } = variable.doc;
    const raw = env[name];
    // An empty variable (FOO= in an env file) means "not set", as it does for most tools.
    if (raw === undefined || raw === "") continue;
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) values.set(variable, parsed.data);
    else {
      const received = secret ? "a value not shown" : JSON.stringify(raw);
      problems.push(`${name}: ${parsed.error.issues[0]?.message} (received ${received})`);
    }
  }
  if (problems.length > 0) refuse(problems.join("\n  "));
  const read: Read = <T>(variable: Variable<T>) => {
    // A variable outside SETTINGS would silently never be read from the environment.
    if (!READ.has(variable)) throw new Error(`${variable.doc.env} is not in SETTINGS`);
    if (!values.has(variable)) values.set(variable, variable.fallback(read));
    return values.get(variable) as T;
  };
  const build = (node: Settings[string]): unknown => {
    if (node instanceof Variable) return read(node);
    if (node instanceof Combined) {
      const parts = Object.entries(node.parts).map(([key, part]) => [key, read(part)]);
      return node.build(Object.fromEntries(parts));
    }
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, build(child)]));
  };
  return build(SETTINGS) as Config;
}
