import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../../http/env.ts";
import { validationHook } from "../../../../http/validation.ts";
import { registerCreateWebhook } from "./create.ts";
import { registerDeleteWebhook } from "./delete.ts";
import { registerGetWebhook } from "./get.ts";
import { registerListWebhooks } from "./list.ts";

/** The caller's webhooks, to mount at /v1/webhooks behind authentication. */
export function webhooksRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerCreateWebhook(app);
  registerListWebhooks(app);
  registerGetWebhook(app);
  registerDeleteWebhook(app);
  return app;
}
