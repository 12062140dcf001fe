import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerGetPreferences } from "./get-preferences.ts";
import { registerListOutbox } from "./outbox.ts";
import { registerPatchPreferences } from "./patch-preferences.ts";

/**
 * The caller's notification settings and outbox, to mount at /v1/me behind authentication:
 * GET/PATCH /v1/me/notifications, GET /v1/me/outbox.
 */
export function meNotificationsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerGetPreferences(app);
  registerPatchPreferences(app);
  registerListOutbox(app);
  return app;
}
