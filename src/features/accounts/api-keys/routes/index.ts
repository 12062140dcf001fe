import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../../http/env.ts";
import { validationHook } from "../../../../http/validation.ts";
import { registerCreateApiKey } from "./create.ts";
import { registerDeleteApiKey } from "./delete.ts";
import { registerListApiKeys } from "./list.ts";

/** The caller's API keys, mounted at /v1/api-keys. */
export function apiKeysRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerCreateApiKey(app);
  registerListApiKeys(app);
  registerDeleteApiKey(app);
  return app;
}
