import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Limits } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { AnalysisService } from "../services/analysis.ts";
import type { ImageService } from "../services/images.ts";
import type { TransformService } from "../services/transforms.ts";

/** What the routes get from the process that hosts them; built once from the config. */
export type Services = {
  images: ImageService;
  analysis: AnalysisService;
  transforms: TransformService;
  limits: Limits;
  logger: Logger;
  /** Resolves when the database answers; rejects otherwise. */
  checkReady(): Promise<void>;
};

export type AppEnv = { Variables: RequestIdVariables & { services: Services } };

export type App = OpenAPIHono<AppEnv>;
