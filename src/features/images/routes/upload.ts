import { createRoute, z } from "@hono/zod-openapi";
import { unsupportedContentType } from "../../../http/content-type.ts";
import type { App } from "../../../http/env.ts";
import { multipartBoundary, parseMultipart } from "../../../http/multipart.ts";
import {
  FieldErrorSchema,
  PROBLEM_MEDIA_TYPE,
  ProblemSchema,
  problemResponses,
} from "../../../http/problem.ts";
import { STREAMED_UPLOAD } from "../../../http/route-flags.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { IncomingFile, UploadResult } from "../image-service.ts";
import { UploadErrorSchema, UploadResultSchema } from "./schemas.ts";

export const UploadProblemSchema = ProblemSchema.extend({
  images: UploadResultSchema.shape.images.optional(),
  errors: z
    .array(z.union([UploadErrorSchema, FieldErrorSchema]))
    .optional()
    .openapi({ description: "Each refused file's error, or the invalid fields (no file part)." }),
}).openapi("UploadProblem", {
  description: "A problem; when files were refused, with `images: []` and each file's `errors`.",
});

/** A response of a multipart request that stored no file: the problem with every refusal. */
export const refused = (description: string) => ({
  description,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: UploadProblemSchema } },
});

const route = createRoute({
  ...STREAMED_UPLOAD,
  method: "post",
  path: "/",
  tags: ["images"],
  summary: "Upload one image or a batch",
  description:
    "Multipart body with one or more `file` parts. Each file's format is judged from its content " +
    "(JPEG, PNG, WebP, AVIF), its size from its header, and it is decoded once (a JPEG at 1/8 " +
    "scale) so that nothing is stored that no operation could read; each is stored in its own " +
    "transaction. " +
    "201 when all are stored, 207 when some were refused (see `errors`), and the refusal's status " +
    "(403, 413, 415, 422, 503) as a problem with the same `errors` when none was. Files count " +
    "against the account's quotas (MAX_USER_BYTES: 413, MAX_USER_IMAGES: 403).",
  request: {
    body: {
      required: true,
      content: {
        // A plain schema, not zod: zod-openapi would otherwise buffer the whole body to validate it.
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["file"],
            properties: { file: { type: "array", items: { type: "string", format: "binary" } } },
          },
        },
      },
    },
  },
  responses: {
    201: {
      description: "Every file stored",
      content: { "application/json": { schema: UploadResultSchema } },
    },
    207: {
      description: "Some files stored, some refused",
      content: { "application/json": { schema: UploadResultSchema } },
    },
    ...problemResponses("bad_request"),
    403: refused("No file stored: the account's image count quota (MAX_USER_IMAGES) is reached"),
    413: refused("No file stored: too large, too many files, or over the bytes quota"),
    415: refused("No file stored: not multipart, or not an image format Pictor reads"),
    422: refused(
      "No file stored: empty, truncated, corrupt, not decodable (12-bit or CMYK JPEG, animated WebP…) or over MAX_PIXELS; or no file part",
    ),
    503: refused("No file stored: the image workers are busy; try again shortly"),
  },
});

export function registerUploadImages(app: App) {
  return app.openapi(route, async (c) => {
    const boundary = multipartBoundary(c.req.header("content-type"));
    if (!boundary || !c.req.raw.body) {
      throw unsupportedContentType(
        ["multipart/form-data"],
        c.req.header("content-type"),
        "with `file` parts (curl -F file=@photo.jpg)",
      );
    }
    const body = c.req.raw.body;
    async function* files(): AsyncGenerator<IncomingFile> {
      for await (const part of parseMultipart(body, boundary as string)) {
        if (part.name === "file") yield { filename: part.filename, body: part.body };
      }
    }
    const result = await c.var.services.images.upload(c.var.principal, files());
    if (result.images.length === 0) throw nothingStored(result);
    return c.json(uploadBody(result), result.refused.length === 0 ? 201 : 207);
  });
}

/** An upload's outcome as JSON: the images stored, and each refused file's problem. */
export function uploadBody(result: UploadResult): z.output<typeof UploadResultSchema> {
  return {
    images: result.images,
    errors: result.refused.map(({ index, filename, error }) => ({
      index,
      filename,
      status: error.status,
      title: error.title,
      detail: error.detail,
    })),
  };
}

/**
 * The problem of an upload that stored no file: the refusal itself (unprocessable_image when
 * the files were refused for different reasons), with every file's error; or a 422 when the
 * body had no file part at all.
 */
export function nothingStored(result: UploadResult): ApiError {
  const [first, ...others] = result.refused;
  if (!first) {
    return new ApiError("validation_failed", "The body has no file part", {
      errors: [{ path: "body.file", message: "At least one file part is required" }],
    });
  }
  const same = others.every((r) => r.error.code === first.error.code);
  const detail =
    others.length === 0
      ? first.error.detail
      : `None of the ${result.refused.length} files was stored`;
  return new ApiError(same ? first.error.code : "unprocessable_image", detail, {
    members: uploadBody(result),
  });
}
