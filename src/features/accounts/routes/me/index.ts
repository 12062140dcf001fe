import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../../http/env.ts";
import { validationHook } from "../../../../http/validation.ts";
import { registerChangePassword } from "./change-password.ts";
import { registerGetMe } from "./get-me.ts";

/** The caller's own account, mounted at /v1/me. */
export function meRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerGetMe(app);
  registerChangePassword(app);
  return app;
}
