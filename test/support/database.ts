import { afterAll, beforeAll, describe } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { bunPasswordHasher } from "../../src/adapters/bun/bun-password-hasher.ts";
import { createFileSpool } from "../../src/adapters/bun/file-spool.ts";
import { createWorkerPool } from "../../src/adapters/bun/worker-pool.ts";
import { connectPostgres, type Database } from "../../src/adapters/postgres/database.ts";
import { openEmbeddedDatabase } from "../../src/adapters/postgres/embedded-postgres.ts";
import { migrate } from "../../src/adapters/postgres/migrate.ts";
import { createPostgresBlobStore } from "../../src/adapters/postgres/postgres-blob-store.ts";
import { createS3ObjectStore } from "../../src/adapters/s3/s3-object-store.ts";
import {
  type AuthSettings,
  type DeliverySettings,
  type JobSettings,
  type Limits,
  loadConfig,
  type NotificationSettings,
  type RateLimitSettings,
} from "../../src/config/config.ts";
import type { Role } from "../../src/features/accounts/principal.ts";
import {
  createTokenService,
  type TokenService,
} from "../../src/features/accounts/token-service.ts";
import { createApp } from "../../src/http/app.ts";
import type { App, Services } from "../../src/http/env.ts";
import type { DeferredWork } from "../../src/platform/deferred-work.ts";
import type { ImageProcessor } from "../../src/platform/image-processor.ts";
import { createJsonLogger } from "../../src/platform/logger.ts";
import type { ObjectStore } from "../../src/platform/object-store.ts";
import { memorySpool } from "../../src/platform/spool.ts";
import { createServices, type ServicesWithBackground } from "../../src/wiring/create-services.ts";
import { createTestClock, type TestClock } from "./clock.ts";
import { startTestS3, type TestS3 } from "./s3.ts";

/** The real server CI uses; DATABASE_URL overrides it. */
export const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const required = process.env.REQUIRE_SERVICES === "1";

async function reachable(url: string): Promise<string | null> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return null;
  } catch (err) {
    return String(err);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const unreachable = await reachable(POSTGRES_URL);
if (unreachable) {
  if (required)
    throw new Error(
      `REQUIRE_SERVICES=1 but Postgres at ${POSTGRES_URL} is unreachable: ${unreachable}`,
    );
  console.warn(
    `\n⚠ SKIPPING real-Postgres tests: ${POSTGRES_URL} is unreachable (${unreachable})\n`,
  );
}
export const postgresAvailable = unreachable === null;

export type ScratchDatabase = { url: string; drop(): Promise<void> };

/**
 * A new, empty database on the Postgres server, for tests that run their own processes on it
 * (migrations from nothing, several instances sharing it): its URL, and `drop`, which closes what
 * is still connected and removes it.
 *
 * @example
 * const scratch = await createScratchDatabase("pictor_load");
 * try { await spawnServer({ DATABASE_URL: scratch.url }); } finally { await scratch.drop(); }
 */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const database = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${database}`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return {
    url: url.href,
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export type DatabaseKind = "embedded" | "postgres";

/**
 * Where a test environment keeps its records and its image bytes: the embedded or the real
 * Postgres with the bytes beside the records, or (`s3`) the real Postgres with the bytes in a real
 * S3-protocol server (s3rver, started by the tests on 127.0.0.1). The s3 variant runs on the real
 * server only: the blob store is what it tests, and the embedded run would only double its time.
 */
export type TestVariant = DatabaseKind | "s3";

/** Every variant: for the suites over image bytes (images, renders, analysis, segmentation, jobs). */
export const WITH_S3: readonly TestVariant[] = ["embedded", "postgres", "s3"];

/** Whether `variant` can run here (the real server is reachable); when not, it is skipped loudly. */
export const variantAvailable = (variant: TestVariant) =>
  variant === "embedded" || postgresAvailable;

let sharedS3: Promise<TestS3> | undefined;

/**
 * The test process's s3rver, started by the first s3 environment; each environment keeps its
 * objects under a prefix of its own. Its files are removed when the process exits.
 */
function testS3(): Promise<TestS3> {
  sharedS3 ??= startTestS3().then((s3) => {
    process.once("exit", () => s3.removeFiles());
    return s3;
  });
  return sharedS3;
}

/**
 * A migrated embedded database, made once per test process as the suites load (the first PGlite
 * of a process compiles its WebAssembly, which takes longer than a test hook may on a busy
 * machine), kept open, and its data directory: suites borrow the database one at a time (see
 * openTestDatabase), spawned servers and overlapping suites start from a copy of the data.
 */
const template = await (async () => {
  const db = await openEmbeddedDatabase("memory://");
  await migrate(db.sql);
  return { db, data: await db.dumpDataDir() };
})();
const migratedTemplate = template.data;
let templateBorrowed = false;

/**
 * The process's migrated embedded database, lent to one suite: on close, the suite's
 * subscriptions end and every table is emptied (the migrations' record stays), which costs a
 * few milliseconds where opening a copy costs about 0.8 s of CPU.
 */
function borrowTemplate(): Database {
  templateBorrowed = true;
  const { db } = template;
  const subscriptions: { unlisten(): Promise<void> }[] = [];
  let closing: Promise<void> | undefined;
  return {
    ...db,
    async listen(channel, onPayload) {
      const subscription = await db.listen(channel, onPayload);
      // One that completes after close would hear the next suite's notifications: ended at once.
      if (closing) await subscription.unlisten();
      else subscriptions.push(subscription);
      return subscription;
    },
    close() {
      closing ??= (async () => {
        for (const subscription of subscriptions.splice(0)) await subscription.unlisten();
        const tables = await db.sql<{ name: string }[]>`
          SELECT tablename AS name FROM pg_tables
          WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`;
        await db.sql.unsafe(
          `TRUNCATE ${tables.map((t) => `"${t.name}"`).join(", ")} RESTART IDENTITY CASCADE`,
        );
        // Lent again only once emptied: after a failed truncate, later suites get copies.
        templateBorrowed = false;
      })();
      return closing;
    },
  };
}

/**
 * Makes `dataDir` a server's DATA_DIR whose embedded database is a copy of the migrated template,
 * as a server that ran before leaves it: a server spawned on it skips initdb (about 4 s of CPU),
 * for the process tests where the first start is not what they test.
 */
export async function seedServerDataDir(dataDir: string): Promise<void> {
  const db = await openEmbeddedDatabase(join(dataDir, "pglite"), {
    loadDataDir: migratedTemplate.slice(0),
  });
  await db.close();
}

/**
 * A migrated database with no rows: the process's embedded one (emptied when the previous suite
 * closed it) or a copy of it, or a schema of its own on the real server (dropped by `close`), so
 * test files never see each other's rows.
 */
export async function openTestDatabase(kind: DatabaseKind): Promise<Database> {
  if (kind === "embedded") {
    if (!templateBorrowed) return borrowTemplate();
    // Suites that overlap get a copy of the migrated template (the thread takes the buffer).
    return openEmbeddedDatabase("memory://", { loadDataDir: migratedTemplate.slice(0) });
  }
  return (await openTestSchema()).db;
}

/**
 * A migrated schema of its own on the real server, and its name, for a runtime handed a
 * connection string instead (see schemaUrl); closing the database drops the schema.
 */
export async function openTestSchema(): Promise<{ db: Database; schema: string }> {
  const schema = `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const inner = connectPostgres(POSTGRES_URL, { schema, max: 4 });
  // Once only: a second close would find the pool ended; the pool ends even when the drop
  // fails, so a failed drop is reported instead of hanging the run.
  let closing: Promise<void> | undefined;
  const db: Database = {
    ...inner,
    close() {
      closing ??= (async () => {
        try {
          await inner.sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await inner.close();
        }
      })();
      return closing;
    },
  };
  try {
    await migrate(db.sql);
  } catch (err) {
    // The caller never gets this database, so nobody else would drop its schema.
    await db.close().catch(() => {});
    throw err;
  }
  return { db, schema };
}

/**
 * The connection string of `schema` on the real server, its connections named `appName`: a
 * test counts in pg_stat_activity what the runtime it handed the string to left open.
 */
export function schemaUrl(schema: string, appName: string): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("search_path", schema);
  url.searchParams.set("application_name", appName);
  return url.href;
}

/**
 * Runs every step in order, even after one fails, then throws the first failure: an afterAll
 * whose first step throws must still close the database (and drop its schema) after it.
 */
export async function closeAll(...steps: (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}

export const TEST_LIMITS: Limits = {
  maxUploadBytes: 25 * 1024 * 1024,
  maxBatchFiles: 50,
  maxPixels: 50_000_000,
  maxUserBytes: 10 * 1024 ** 3,
  maxUserImages: 100_000,
};

/** Two keys: "test-1" signs, "test-0" (an older one being rotated out) still verifies. */
export const TEST_JWT_KEYS = [
  { kid: "test-1", secret: "test-secret-one-0123456789abcdefghijklmnop" },
  { kid: "test-0", secret: "test-secret-zero-0123456789abcdefghijklmno" },
];

export const TEST_AUTH: AuthSettings = {
  jwtKeys: TEST_JWT_KEYS,
  tokenTtlSeconds: 3600,
  admin: null,
  trustProxy: false,
};

/** The documented defaults: the suites run within them, as a normal client would. */
export const TEST_RATE_LIMITS: RateLimitSettings = {
  requests: 600,
  windowSeconds: 60,
  signups: 10,
  signupWindowSeconds: 3600,
};

export const TEST_PASSWORD = "a long test passphrase";

export type TestUser = {
  id: string;
  email: string;
  password: string;
  /** An access token of the user. */
  token: string;
  /** The app, with this user's token on every request that brings no credential of its own. */
  app: App;
};

export type TestContext = {
  /** The app as the default test user (a plain `user`) sees it: requests carry its token. */
  app: App;
  /** The app itself: requests carry only the credentials they bring. */
  rawApp: App;
  /** The default test user, whose token `app` sends. */
  user: TestUser;
  /** One more account (`role` "user" unless told), with its own token and app. */
  createUser(options?: { role?: Role; email?: string }): Promise<TestUser>;
  services: ServicesWithBackground;
  db: Database;
  logs: string[];
  processor: ImageProcessor;
  /** The services' clock: move it instead of sleeping through a rate-limit window. */
  clock: TestClock;
};

/**
 * `app` with `Authorization: Bearer <token>` added to every request that carries neither an
 * Authorization nor an X-API-Key header: the same `request` signature, so helpers typed `App`
 * take it.
 */
export function withCredentials(app: App, token: string): App {
  const authed = Object.create(app) as App;
  authed.request = (input, init, ...rest) => {
    const add = (headers: Headers) => {
      if (!headers.has("authorization") && !headers.has("x-api-key")) {
        headers.set("Authorization", `Bearer ${token}`);
      }
    };
    if (input instanceof Request) {
      const request = new Request(input, init);
      add(request.headers);
      return app.request(request, undefined, ...rest);
    }
    const headers = new Headers(init?.headers);
    add(headers);
    return app.request(input, { ...init, headers }, ...rest);
  };
  return authed;
}

let userCount = 0;

/**
 * Creates an account directly through the services (no signup limit), with a token from `tokens`
 * (the app's keys and clock) instead of a login: a login is one more argon2 run per test user,
 * and the suites that test logging in do it through the API.
 */
async function createTestUser(
  services: Services,
  tokens: TokenService,
  app: App,
  options: { role?: Role; email?: string } = {},
): Promise<TestUser> {
  const email =
    options.email ?? `user-${++userCount}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const user = await services.users.create(email, TEST_PASSWORD, options.role ?? "user");
  const { access_token: token } = await tokens.issue(user.id);
  return {
    id: user.id,
    email: user.email,
    password: TEST_PASSWORD,
    token,
    app: withCredentials(app, token),
  };
}

export const TEST_JOB_SETTINGS: JobSettings = {
  amqpUrl: undefined,
  workerSecret: "a test worker secret of at least 32 characters",
  queuePrefix: "pictor",
  maxAttempts: 3,
  concurrency: 2,
  retryBaseMs: 50,
  leaseMs: 60_000,
  pollMs: 50,
  messageMaxAgeMs: 86_400_000,
};

export const TEST_NOTIFY_SETTINGS: NotificationSettings = {
  smtpUrl: undefined,
  mailFrom: "Pictor <pictor@pictor.test>",
  maxAttempts: 3,
  backoffMs: 50,
  backoffMaxMs: 200,
  timeoutMs: 3000,
  pollMs: 50,
  attachMaxFiles: 5,
  attachMaxBytes: 5 * 1024 * 1024,
};

let sharedPool: ImageProcessor | undefined;

/**
 * The worker pool of the test process, shared by every environment that brings none: each
 * worker compiles the codecs' WebAssembly on its first task, about a second a pool, which ~30
 * suites would otherwise pay again. Its logs go nowhere: the suites' logs are their services'.
 */
function sharedProcessor(): ImageProcessor {
  sharedPool ??= createWorkerPool({
    size: 2,
    queueLimit: 256,
    timeoutMs: 60_000,
    logger: createJsonLogger("silent"),
  });
  return sharedPool;
}

export type TestEnvOptions = {
  limits?: Partial<Limits>;
  auth?: Partial<AuthSettings>;
  rateLimits?: Partial<RateLimitSettings>;
  jobs?: Partial<JobSettings>;
  notify?: Partial<NotificationSettings>;
  /** Signed URLs, CORS and the memory cache; the defaults otherwise. */
  delivery?: Partial<DeliverySettings>;
  /** Lets webhooks go to a receiver of the test on 127.0.0.1. */
  allowLoopbackWebhooks?: boolean;
  heartbeatMs?: number;
  /** A worker pool of this size, closed with the environment, instead of the shared one. */
  poolSize?: number;
  /** Starts the job runner and the notification dispatcher, as the server does. */
  start?: boolean;
  /** S3_DOWNLOADS=redirect: /file answers with presigned URLs valid this long (s3 variant). */
  directDownloads?: { ttlSeconds: number };
  /** Work deferred past a response (render cache writes), as the server does; drained at close. */
  deferred?: DeferredWork;
};

/** An environment's object store (the s3 variant's), null when the bytes are in Postgres. */
export type TestObjects = ObjectStore | null;

export type TestEnv = TestContext & {
  variant: TestVariant;
  objects: TestObjects;
  /** Stops what the environment started, then closes its database (dropping its schema). */
  close(): Promise<void>;
};

/**
 * The app on the production wiring (`createServices`, `createApp`) over a fresh database of
 * `kind`, with a default user: what the server runs, in the test process. Both kinds exercise a
 * different spool: the embedded run the memory spool, the real server the file spool. Both hash
 * passwords as the Bun server does, with Bun's native argon2id: the WebAssembly hasher, which
 * only the edge entry uses, costs several times more CPU per check (every test user logs in),
 * and is tested on its own (unit/password.test.ts) and end to end in edge.test.ts.
 */
export async function openTestEnv(
  variant: TestVariant,
  options: TestEnvOptions = {},
): Promise<TestEnv> {
  const kind: DatabaseKind = variant === "s3" ? "postgres" : variant;
  const db = await openTestDatabase(kind);
  const objects =
    variant === "s3"
      ? createS3ObjectStore({
          ...(await testS3()).settings,
          prefix: `env-${crypto.randomUUID().slice(0, 8)}/`,
        })
      : null;
  const logs: string[] = [];
  const logger = createJsonLogger("debug", (line) => logs.push(line));
  const clock = createTestClock();
  const auth = { ...TEST_AUTH, ...options.auth };
  const ownPool =
    options.poolSize === undefined
      ? undefined
      : createWorkerPool({ size: options.poolSize, queueLimit: 256, timeoutMs: 60_000, logger });
  const processor = ownPool ?? sharedProcessor();
  const services = createServices({
    processor,
    db,
    ...(objects ? { blobs: createPostgresBlobStore(db.sql, objects) } : {}),
    directDownloads: options.directDownloads,
    spool: kind === "embedded" ? memorySpool : createFileSpool(join(tmpdir(), "pictor-test-spool")),
    hasher: bunPasswordHasher(),
    limits: { ...TEST_LIMITS, ...options.limits },
    auth,
    rateLimits: { ...TEST_RATE_LIMITS, ...options.rateLimits },
    logger,
    clock,
    delivery: { ...loadConfig({}).delivery, ...options.delivery },
    jobs: { ...TEST_JOB_SETTINGS, ...options.jobs },
    notify: {
      publicUrl: "https://pictor.test",
      settings: { ...TEST_NOTIFY_SETTINGS, ...options.notify },
      webhooks: options.allowLoopbackWebhooks
        ? { allowHttpHosts: ["127.0.0.1"], allowPrivate: ["127.0.0.1"] }
        : { allowHttpHosts: [], allowPrivate: [] },
    },
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.deferred ? { deferred: options.deferred } : {}),
  });
  const rawApp = createApp({ services });
  // Signs as the app's own token service does (its keys, or the one kept in the database); silent,
  // so the logs hold only what the app said.
  const tokens = createTokenService({
    sql: db.sql,
    keys: auth.jwtKeys,
    ttlSeconds: auth.tokenTtlSeconds,
    logger: createJsonLogger("silent"),
    clock,
  });
  const close = () =>
    closeAll(
      () => services.background.stop(),
      async () => options.deferred?.drain(),
      () => ownPool?.close(),
      () => db.close(),
    );
  try {
    if (options.start) await services.background.start();
    const user = await createTestUser(services, tokens, rawApp);
    return {
      variant,
      objects,
      app: user.app,
      rawApp,
      user,
      createUser: (opts) => createTestUser(services, tokens, rawApp, opts),
      services,
      db,
      logs,
      processor,
      clock,
      close,
    };
  } catch (err) {
    // The caller gets no env to close: this is the only chance to drop the schema.
    await close().catch(() => {});
    throw err;
  }
}

/**
 * Runs `body` once against the embedded database and once against the real Postgres server
 * (and with `variants: WITH_S3` once more with the bytes in s3rver), each in an environment of
 * its own (`openTestEnv`). The real-server runs are skipped, loudly, when the server is
 * unreachable and REQUIRE_SERVICES is not set.
 */
export function describeEachDatabase(
  title: string,
  body: (ctx: () => TestEnv) => void,
  limits: Partial<Limits> = {},
  options: Omit<TestEnvOptions, "limits"> & { variants?: readonly TestVariant[] } = {},
) {
  for (const kind of options.variants ?? (["embedded", "postgres"] as const)) {
    const run = variantAvailable(kind) ? describe : describe.skip;
    run(`${title} [${kind}]`, () => {
      // Kept as the promise: a beforeAll that times out (bun then runs afterAll while it is
      // still pending) must not leave its schema behind.
      let opening: Promise<TestEnv> | undefined;
      let env: TestEnv | undefined;
      beforeAll(async () => {
        opening = openTestEnv(kind, { ...options, limits });
        env = await opening;
      });
      body(() => {
        if (!env) throw new Error("test context used before beforeAll ran");
        return env;
      });
      // Registered after body's own hooks, so it runs after them (bun runs afterAll hooks in
      // registration order): whatever the body started is stopped before its database goes.
      afterAll(async () => (await opening?.catch(() => undefined))?.close());
    });
  }
}

/** describeEachDatabase over WITH_S3: once more with the bytes in s3rver. */
export function describeWithS3(
  title: string,
  body: (ctx: () => TestEnv) => void,
  limits: Partial<Limits> = {},
  options: Omit<TestEnvOptions, "limits"> = {},
) {
  describeEachDatabase(title, body, limits, { ...options, variants: WITH_S3 });
}
