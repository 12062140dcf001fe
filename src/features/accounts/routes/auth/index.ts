import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../../http/env.ts";
import { validationHook } from "../../../../http/validation.ts";
import { registerSignup } from "./signup.ts";
import { registerToken } from "./token.ts";

/** Signup and login, mounted at /v1/auth: the only public routes under /v1. */
export function authRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerSignup(app);
  registerToken(app);
  return app;
}
