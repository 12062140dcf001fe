import { z } from "@hono/zod-openapi";

export const UserIdParams = z.object({
  id: z
    .uuid({ error: "Expected a user id (a UUID)" })
    .openapi({ param: { name: "id", in: "path" } }),
});
