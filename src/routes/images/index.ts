import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { validationHook } from "../../http/validation.ts";
import { registerDeleteImage } from "./delete.ts";
import { registerGetImageFile } from "./file.ts";
import { registerGetImage } from "./get.ts";
import { registerImageHistogram } from "./histogram.ts";
import { registerListImages } from "./list.ts";
import { registerImagePalette } from "./palette.ts";
import { registerRenderImage } from "./render.ts";
import { registerSegmentImage } from "./segment.ts";
import { registerListImageSegmentations } from "./segmentations.ts";
import { registerTransformImage } from "./transform.ts";
import { registerUploadImages } from "./upload.ts";

/** The images resource, mounted at /v1/images. */
export function imagesRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerUploadImages(app);
  registerListImages(app);
  registerGetImage(app);
  registerGetImageFile(app);
  registerDeleteImage(app);
  registerTransformImage(app);
  registerRenderImage(app);
  registerImageHistogram(app);
  registerImagePalette(app);
  registerSegmentImage(app);
  registerListImageSegmentations(app);
  return app;
}
