import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerDeleteSegmentation } from "./delete.ts";
import { registerGetSegmentation } from "./get.ts";
import { registerSegmentationMask } from "./mask.ts";

/** The segmentations resource, mounted at /v1/segmentations. */
export function segmentationsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerGetSegmentation(app);
  registerDeleteSegmentation(app);
  registerSegmentationMask(app);
  return app;
}
