import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerImageHistogram } from "../../analysis/routes/histogram.ts";
import { registerImagePalette } from "../../analysis/routes/palette.ts";
import { registerRenderImage } from "../../renders/routes/render.ts";
import { registerTransformImage } from "../../renders/routes/transform.ts";
import { registerListImageSegmentations } from "../../segmentations/routes/list-for-image.ts";
import { registerSegmentImage } from "../../segmentations/routes/segment.ts";
import { registerDeleteImage } from "./delete.ts";
import { registerGetImageFile } from "./file.ts";
import { registerGetImage } from "./get.ts";
import { registerListImages } from "./list.ts";
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
