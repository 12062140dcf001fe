import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { PreferencesPatchSchema, PreferencesSchema } from "./schemas.ts";

const route = createRoute({
  method: "patch",
  path: "/notifications",
  tags: ["notifications"],
  summary: "Change the caller's notification preferences",
  description: "Fields left out keep their value.",
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: PreferencesPatchSchema } },
    },
  },
  responses: {
    200: {
      description: "The preferences now",
      content: { "application/json": { schema: PreferencesSchema } },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerPatchPreferences(app: App) {
  return app.openapi(route, async (c) => {
    const patch = c.req.valid("json");
    const updated = await c.var.services.notifications.updatePreferences(
      c.var.principal.userId,
      patch.email ? { email: patch.email } : {},
    );
    return c.json(updated, 200);
  });
}
