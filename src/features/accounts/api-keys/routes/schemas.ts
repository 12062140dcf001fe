import { z } from "@hono/zod-openapi";

export const ApiKeyIdParams = z.object({
  id: z
    .uuid({ error: "Expected an API key id (a UUID)" })
    .openapi({ param: { name: "id", in: "path" } }),
});

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z
      .string()
      .openapi({ example: "pk_Xq3vB7Lk", description: "The key's first characters." }),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime().nullable(),
  })
  .openapi("ApiKey");

export const NewApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({
    description:
      "The key itself, shown this once: send it as `X-API-Key` or `Authorization: Bearer`.",
  }),
}).openapi("NewApiKey");
