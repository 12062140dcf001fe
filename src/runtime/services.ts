import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Services } from "../http/env.ts";
import type { Logger } from "../logger.ts";
import { createImageService } from "../services/images.ts";
import type { Spool } from "../storage/spool.ts";

/** Wires the use cases to a database and a spool; shared by every runtime adapter and the tests. */
export function createServices(deps: {
  db: Database;
  spool: Spool;
  limits: Config["limits"];
  logger: Logger;
}): Services {
  const { db, spool, limits, logger } = deps;
  return {
    images: createImageService({ sql: db.sql, spool, limits }),
    limits,
    logger,
    async checkReady() {
      await db.sql`SELECT 1`;
    },
  };
}
