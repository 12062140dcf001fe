import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../../config/config.ts";
import { createTokenService } from "../../features/accounts/token-service.ts";
import { createUserService } from "../../features/accounts/user-service.ts";
import { ApiError } from "../../platform/api-error.ts";
import { createJsonLogger } from "../../platform/logger.ts";
import { connectPostgres, type Database } from "../postgres/database.ts";
import { openEmbeddedDatabase } from "../postgres/embedded-postgres.ts";
import { migrate } from "../postgres/migrate.ts";
import { bunPasswordHasher } from "./bun-password-hasher.ts";

const USAGE = `Usage: npm run cli -- create-admin --email EMAIL [--password PASSWORD]

create-admin   Creates an admin account, or makes an existing account an enabled admin and sets
               its password (the way back in when the admin password is lost). The password
               comes from --password or the ADMIN_PASSWORD variable. The database is the one the
               server uses (DATABASE_URL, or the embedded one under DATA_DIR: stop the server
               first, the embedded database has a single owner).`;

const parseCommandLine = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: "string" }, password: { type: "string" } },
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
  const email = parsed.values.email;
  const password = parsed.values.password ?? env.ADMIN_PASSWORD;
  if (command !== "create-admin" || !email || !password) {
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
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    err(e.detail);
    return 1;
  } finally {
    await db.close();
  }
}

if (import.meta.main) {
  process.exit(await runCli(process.argv.slice(2), process.env));
}
