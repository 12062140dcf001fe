import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { validationHook } from "../../http/validation.ts";
import type { NotificationRouteDeps } from "../me-notifications/deps.ts";
import { registerCreateWebhook } from "./create.ts";
import { registerDeleteWebhook } from "./delete.ts";
import { registerGetWebhook } from "./get.ts";
import { registerListWebhooks } from "./list.ts";

/** The caller's webhooks, to mount at /v1/webhooks behind authentication. */
export function webhooksRoutes(deps: NotificationRouteDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerCreateWebhook(app, deps);
  registerListWebhooks(app, deps);
  registerGetWebhook(app, deps);
  registerDeleteWebhook(app, deps);
  return app;
}
