import { createRoute, z } from "@hono/zod-openapi";
import { FILE_EXTENSIONS, MEDIA_TYPES } from "../../../core/formats/probe.ts";
import { filenameStem } from "../../../core/lib/filenames.ts";
import { matchesEtag } from "../../../http/conditional-request.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { Principal } from "../../accounts/index.ts";
import type { ImageRecord, ImageService } from "../image-service.ts";
import { ImageIdParams } from "./schemas.ts";

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

const route = createRoute({
  method: "get",
  path: "/{id}/file",
  tags: ["images"],
  summary: "The original bytes",
  description:
    "Byte-identical to the upload. The ETag is the SHA-256 of the bytes; `If-None-Match` gives " +
    "304. `Content-Disposition: inline` names the file: the upload's name, or for a derived " +
    "image `<original>-<first 8 characters of its id>.<ext>`.",
  request: { params: ImageIdParams },
  responses: {
    200: {
      description: "The file",
      headers: {
        ETag: { schema: { type: "string" } },
        "Content-Length": { schema: { type: "integer" } },
        "Content-Disposition": {
          schema: { type: "string" },
          example: 'inline; filename="photo.jpg"',
        },
      },
      content: { "image/jpeg": binary, "image/png": binary, "image/webp": binary },
    },
    304: { description: "Not modified: the client's copy is current" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

/**
 * The name a browser saves the file under: the upload's own (sanitised, with the extension of
 * its format), or for a derived image, which has none, its source's followed by its id's first
 * 8 characters, so that several renditions of one photo do not overwrite each other.
 */
async function fileName(
  record: ImageRecord,
  images: ImageService,
  principal: Principal,
): Promise<string> {
  const extension = FILE_EXTENSIONS[record.format];
  const id8 = record.id.slice(0, 8);
  // `image-<id8>` for one uploaded without a name, or derived from a since deleted source (whose
  // source_id is then null).
  if (!record.source_id) return `${filenameStem(record.filename, `image-${id8}`)}.${extension}`;
  // Deleted between the two reads: named as if it were gone already.
  const source = await images.get(principal, record.source_id).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === "not_found") return null;
    throw err;
  });
  return `${filenameStem(source?.filename ?? null, "image")}-${id8}.${extension}`;
}

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
      "Content-Disposition": `inline; filename="${await fileName(record, images, c.var.principal)}"`,
    });
  });
}
