import { createRoute } from "@hono/zod-openapi";
import { PipelineSpecSchema } from "../../../core/pipeline/pipeline-spec.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ImageIdParams, ImageSchema } from "../../images/index.ts";

const route = createRoute({
  method: "post",
  path: "/{id}/transform",
  tags: ["images"],
  summary: "Make a derived image by a pipeline",
  description:
    "Runs `operations` (at most 10: resize, crop, rotate, flip, flop, grayscale) in order after " +
    "applying the EXIF orientation (`autoOrient: false` skips it), then encodes to `format` " +
    "(`jpeg`, `png`, `webp`, `avif`, or `auto` to pick from the Accept header; default: the " +
    "source's format). JPEG is written by libjpeg-turbo, or with `mozjpeg: true` by MozJPEG " +
    "(about a fifth smaller, 4–5× slower to encode). A conversion is a transform with only " +
    "`format`. The result is a new image with `source_id` and the canonical `pipeline`; its " +
    "bytes are at `/v1/images/{new id}/file`. It counts against the owner's quotas " +
    "(MAX_USER_BYTES: 413, MAX_USER_IMAGES: 403).",
  request: {
    params: ImageIdParams,
    body: { required: true, content: { "application/json": { schema: PipelineSpecSchema } } },
  },
  responses: {
    201: {
      description: "The derived image",
      content: { "application/json": { schema: ImageSchema } },
    },
    ...problemResponses(
      "forbidden",
      "not_found",
      "payload_too_large",
      "validation_failed",
      "unprocessable_image",
      "unavailable",
    ),
  },
});

export function registerTransformImage(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const spec = c.req.valid("json");
    const image = await c.var.services.transforms.transform(
      c.var.principal,
      id,
      spec,
      c.req.header("accept"),
    );
    return c.json(image, 201, { Location: `/v1/images/${image.id}` });
  });
}
