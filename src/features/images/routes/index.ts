import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerDeleteImage } from "./delete.ts";
import { registerGetImageFile } from "./file.ts";
import { registerGetImage } from "./get.ts";
import { registerListImages } from "./list.ts";
import { registerUploadImages } from "./upload.ts";

/**
 * The images resource, mounted at /v1/images: upload, listing, metadata, file, deletion. What other
 * features do with an image (renders, analyses, segmentations) they mount there themselves.
 */
export function imagesRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerUploadImages(app);
  registerListImages(app);
  registerGetImage(app);
  registerGetImageFile(app);
  registerDeleteImage(app);
  return app;
}
