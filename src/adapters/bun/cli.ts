import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../../config/config.ts";
import { createTokenService } from "../../features/accounts/token-service.ts";
import { createUserService } from "../../features/accounts/user-service.ts";
import { ApiError } from "../../platform/api-error.ts";
import { createJsonLogger, type Logger } from "../../platform/logger.ts";
import { collectBlobGarbage, moveBlobs } from "../postgres/blob-maintenance.ts";
import { connectPostgres, type Database } from "../postgres/database.ts";
import { openEmbeddedDatabase } from "../postgres/embedded-postgres.ts";
import { migrate } from "../postgres/migrate.ts";
import { openObjectStore } from "../s3/open-blob-store.ts";
import { bunPasswordHasher } from "./bun-password-hasher.ts";

const USAGE = `Usage: npm run cli -- create-admin --email EMAIL [--password PASSWORD]
       npm run cli -- gc-blobs
       npm run cli -- move-blobs --to s3|postgres

create-admin   Creates an admin account, or makes an existing account an enabled admin and sets
               its password (the way back in when the admin password is lost). The password
               comes from --password or the ADMIN_PASSWORD variable.
gc-blobs       Deletes the objects in the S3 bucket that no record needs (left by an upload that
               was killed, or by deleted images). Safe while servers run.
move-blobs     Moves every image's bytes to S3 (--to s3) or back into Postgres (--to postgres):
               copies each blob, reads the copy back and checks its SHA-256, then switches its
               row. Safe while servers run; can be interrupted and run again. Set BLOB_STORE to
               the destination for the servers, so new uploads go there too.

The database is the one the server uses (DATABASE_URL, or the embedded one under DATA_DIR: stop
the server first, the embedded database has a single owner); the bucket is the S3_* settings'.`;

const parseCommandLine = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: {
      email: { type: "string" },
      password: { type: "string" },
      to: { type: "string" },
    },
  });

/** Runs one command; resolves to the process's exit code. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  const { email, to } = parsed.values;
  const password = parsed.values.password ?? env.ADMIN_PASSWORD;
  const valid =
    (command === "create-admin" && email && password) ||
    command === "gc-blobs" ||
    (command === "move-blobs" && (to === "s3" || to === "postgres"));
  if (!valid) {
    err(USAGE);
    return 2;
  }
  let config: Config;
  try {
    // The server's own ADMIN_* pair is not needed (nor checked) here.
    config = loadConfig({ ...env, ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(e.message);
    return 1;
  }
  const logger = createJsonLogger("warn", err);
  let db: Database;
  try {
    db = config.databaseUrl
      ? connectPostgres(config.databaseUrl, { max: 1 })
      : await openEmbeddedDatabase(`${config.dataDir}/pglite`);
  } catch (e) {
    // Most often the embedded database is in use by a running server: the message says so.
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
  try {
    await migrate(db.sql, logger);
    if (command === "create-admin" && email && password) {
      return await createAdmin(db, config, logger, email, password, out);
    }
    if (!config.blobs.s3) {
      err(
        `${command} needs the S3 bucket: set S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY`,
      );
      return 1;
    }
    const objects = await openObjectStore(config.blobs.s3);
    if (command === "gc-blobs") {
      out(JSON.stringify(await collectBlobGarbage(db.sql, objects)));
      return 0;
    }
    const report = await moveBlobs(db.sql, objects, to === "s3" ? "object" : "postgres", {
      onMoved: (sha256, bytes) => out(JSON.stringify({ moved: sha256, bytes })),
    });
    out(JSON.stringify(report));
    return report.left === 0 ? 0 : 1;
  } catch (e) {
    if (!(e instanceof ApiError)) {
      // A missing bucket, refused credentials, a copy whose digest differs: said, not thrown.
      err(e instanceof Error ? e.message : String(e));
      return 1;
    }
    err(e.detail);
    return 1;
  } finally {
    await db.close();
  }
}

async function createAdmin(
  db: Database,
  config: Config,
  logger: Logger,
  email: string,
  password: string,
  out: (line: string) => void,
): Promise<number> {
  const tokens = createTokenService({
    sql: db.sql,
    keys: config.auth.jwtKeys,
    ttlSeconds: config.auth.tokenTtlSeconds,
    logger,
  });
  const users = createUserService({
    sql: db.sql,
    hasher: bunPasswordHasher(),
    tokens,
    limits: config.limits,
  });
  const { user, created } = await users.ensureAdmin(email, password, { resetPassword: true });
  out(JSON.stringify({ created, user }));
  return 0;
}

if (import.meta.main) {
  process.exit(await runCli(process.argv.slice(2), process.env));
}
