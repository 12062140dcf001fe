import { createRoute, z } from "@hono/zod-openapi";
import { FILE_EXTENSIONS, MEDIA_TYPES } from "../../../core/formats/probe.ts";
import { filenameStem } from "../../../core/lib/filenames.ts";
import { byteRange, matchesEtag } from "../../../http/conditional-request.ts";
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
    "304. `Range: bytes=a-b` (one range; `If-Range` honoured) gives 206 with those bytes, 416 " +
    "past the end. `Content-Disposition: inline` names the file: the upload's name, or for a " +
    "derived image `<original>-<first 8 characters of its id>.<ext>`. With `S3_DOWNLOADS=redirect` " +
    "the answer is a 302 to a short-lived presigned URL of the object store.",
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
    206: {
      description: "The range asked for",
      headers: {
        "Content-Range": { schema: { type: "string" }, example: "bytes 0-99/4000" },
        "Content-Length": { schema: { type: "integer" } },
      },
      content: { "image/jpeg": binary, "image/png": binary, "image/webp": binary },
    },
    302: { description: "Fetch the bytes from the presigned URL in `Location`" },
    304: { description: "Not modified: the client's copy is current" },
    ...problemResponses("not_found", "range_not_satisfiable", "validation_failed"),
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
    const headers = {
      "Content-Type": MEDIA_TYPES[record.format],
      ETag: etag,
      "Cache-Control": "private, no-cache",
      "Accept-Ranges": "bytes",
      "Content-Disposition": `inline; filename="${await fileName(record, images, c.var.principal)}"`,
    };
    const direct = await images.directUrl(record, {
      contentType: headers["Content-Type"],
      contentDisposition: headers["Content-Disposition"],
    });
    if (direct) return c.redirect(direct, 302);
    const size = record.byte_size;
    const range = byteRange(c.req.header("range"), c.req.header("if-range"), size, etag);
    if (range.kind === "unsatisfiable") {
      // RFC 9110 §15.5.17: the size goes in Content-Range, so the client can ask again.
      throw new ApiError(
        "range_not_satisfiable",
        `The range starts past the end of the ${size}-byte file`,
        {
          headers: { "Content-Range": `bytes */${size}` },
        },
      );
    }
    if (range.kind === "range") {
      return c.body(await images.openFile(record, range), 206, {
        ...headers,
        "Content-Range": `bytes ${range.start}-${range.end}/${size}`,
        "Content-Length": String(range.end - range.start + 1),
      });
    }
    return c.body(await images.openFile(record), 200, {
      ...headers,
      "Content-Length": String(size),
    });
  });
}
