import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerCreateSignedUrl } from "./create.ts";

/** Signed URLs, mounted at /v1/signed-urls. */
export function signedUrlsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerCreateSignedUrl(app);
  return app;
}
