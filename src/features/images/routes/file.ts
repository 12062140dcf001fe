import { createRoute, z } from "@hono/zod-openapi";
import { MEDIA_TYPES } from "../../../core/formats/probe.ts";
import { matchesEtag } from "../../../http/conditional-request.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ImageIdParams } from "./schemas.ts";

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

const route = createRoute({
  method: "get",
  path: "/{id}/file",
  tags: ["images"],
  summary: "The original bytes",
  description:
    "Byte-identical to the upload. The ETag is the SHA-256 of the bytes; `If-None-Match` gives 304.",
  request: { params: ImageIdParams },
  responses: {
    200: {
      description: "The file",
      headers: { ETag: { schema: { type: "string" } } },
      content: { "image/jpeg": binary, "image/png": binary, "image/webp": binary },
    },
    304: { description: "Not modified: the client's copy is current" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerGetImageFile(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const images = c.var.services.images;
    const record = await images.get(c.var.principal, id);
    const etag = `"${record.sha256}"`;
    // Content-addressed bytes never change under an id, so the ETag is known before reading them.
    if (matchesEtag(c.req.header("if-none-match"), etag)) {
      return c.body(null, 304, { ETag: etag });
    }
    return c.body(await images.openFile(record), 200, {
      "Content-Type": MEDIA_TYPES[record.format],
      "Content-Length": String(record.byte_size),
      ETag: etag,
      "Cache-Control": "private, no-cache",
    });
  });
}
