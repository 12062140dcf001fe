import { OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../../../../http/authenticate.ts";
import type { AppEnv } from "../../../../http/env.ts";
import { validationHook } from "../../../../http/validation.ts";
import { registerGetUser } from "./get-user.ts";
import { registerListUsers } from "./list-users.ts";
import { registerUpdateUser } from "./update-user.ts";

/** Account administration, mounted at /v1/admin: every route needs the admin role. */
export function adminRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", requireRole("admin"));
  registerListUsers(app);
  registerGetUser(app);
  registerUpdateUser(app);
  return app;
}
