import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerDeleteSegmentation } from "./delete.ts";
import { registerGetSegmentation } from "./get.ts";
import { registerListImageSegmentations } from "./list-for-image.ts";
import { registerSegmentationMask } from "./mask.ts";
import { registerSegmentImage } from "./segment.ts";

/** The segmentations resource, mounted at /v1/segmentations. */
export function segmentationsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerGetSegmentation(app);
  registerDeleteSegmentation(app);
  registerSegmentationMask(app);
  return app;
}

/** An image's segmentations, mounted at /v1/images: segmenting it, and listing what was made. */
export function imageSegmentationsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerSegmentImage(app);
  registerListImageSegmentations(app);
  return app;
}
