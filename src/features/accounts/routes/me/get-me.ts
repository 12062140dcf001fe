import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { UserSchema } from "../auth/schemas.ts";

const MeSchema = UserSchema.extend({
  via: z
    .enum(["token", "api_key", "session"])
    .openapi({ description: "How this request authenticated." }),
  usage: z
    .object({
      bytes: z
        .number()
        .int()
        .openapi({
          description:
            "Everything stored for you: images (originals and derived), cached renderings and " +
            "analyses, segmentations; each counted in full, even when identical bytes are shared.",
        }),
      images: z.number().int(),
      max_bytes: z.number().int().openapi({ description: "MAX_USER_BYTES" }),
      max_images: z.number().int().openapi({ description: "MAX_USER_IMAGES" }),
    })
    .openapi({ description: "What you store, against the quotas." }),
}).openapi("Me");

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["auth"],
  summary: "The caller's account and usage",
  responses: {
    200: { description: "The account", content: { "application/json": { schema: MeSchema } } },
    ...problemResponses(),
  },
});

export function registerGetMe(app: App) {
  return app.openapi(route, async (c) => {
    const { users } = c.var.services;
    const principal = c.var.principal;
    const [user, usage] = await Promise.all([
      users.get(principal.userId),
      users.usage(principal.userId),
    ]);
    return c.json({ ...user, via: principal.via, usage }, 200);
  });
}
