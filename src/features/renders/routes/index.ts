import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerRenderImage } from "./render.ts";
import { registerTransformImage } from "./transform.ts";

/** Renderings of an image, mounted at /v1/images: cached renders by query, derived images. */
export function imageRenderRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerTransformImage(app);
  registerRenderImage(app);
  return app;
}
