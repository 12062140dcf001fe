import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerImageHistogram } from "./histogram.ts";
import { registerImagePalette } from "./palette.ts";

/** Analyses of an image, mounted at /v1/images: histogram (JSON or chart) and palette. */
export function imageAnalysisRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerImageHistogram(app);
  registerImagePalette(app);
  return app;
}
