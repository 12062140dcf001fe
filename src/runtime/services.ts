import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Services } from "../http/env.ts";
import type { Logger } from "../logger.ts";
import { createAnalysisService } from "../services/analysis.ts";
import { createImageService } from "../services/images.ts";
import type { ImageProcessor } from "../services/processor.ts";
import { createTransformService } from "../services/transforms.ts";
import type { Spool } from "../storage/spool.ts";

/** Wires the use cases to a database and a spool; shared by every runtime adapter and the tests. */
export function createServices(deps: {
  db: Database;
  spool: Spool;
  processor: ImageProcessor;
  limits: Config["limits"];
  logger: Logger;
}): Services {
  const { db, spool, processor, limits, logger } = deps;
  const images = createImageService({ sql: db.sql, spool, limits });
  return {
    images,
    transforms: createTransformService({ sql: db.sql, images, processor, limits }),
    analysis: createAnalysisService({ sql: db.sql, images, processor, limits }),
    limits,
    logger,
    async checkReady() {
      await db.sql`SELECT 1`;
    },
  };
}
