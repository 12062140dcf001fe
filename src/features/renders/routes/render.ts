import { createRoute, z } from "@hono/zod-openapi";
import { RESIZE_KERNELS } from "../../../core/formats/codecs.ts";
import { MEDIA_TYPES } from "../../../core/formats/probe.ts";
import {
  FITS,
  OUTPUT_FORMATS,
  type PipelineSpec,
  type PipelineSpecInput,
  PipelineSpecSchema,
  POSITIONS,
} from "../../../core/pipeline/pipeline-spec.ts";
import { matchesEtag } from "../../../http/conditional-request.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { COMPUTE_READ } from "../../../http/route-flags.ts";
import { integerParam } from "../../../http/validation.ts";
import { ImageIdParams } from "../../images/index.ts";

const flag = (name: string) =>
  z
    .enum(["true", "false", "1", "0"], {
      error: (issue) =>
        `Expected true or false for ${name} but received ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => v === "true" || v === "1")
    .optional()
    .openapi({ param: { name, in: "query" }, type: "boolean" });

const RenderParams = z.object({
  w: integerParam("w", 1, 16383)
    .optional()
    .openapi({ param: { name: "w", in: "query" }, type: "integer" }),
  h: integerParam("h", 1, 16383)
    .optional()
    .openapi({ param: { name: "h", in: "query" }, type: "integer" }),
  fit: z.enum(FITS, { error: `Expected one of ${FITS.join(", ")} for fit` }).optional(),
  position: z
    .enum(POSITIONS, { error: `Expected one of ${POSITIONS.join(", ")} for position` })
    .optional(),
  kernel: z
    .enum(RESIZE_KERNELS, { error: `Expected one of ${RESIZE_KERNELS.join(", ")} for kernel` })
    .optional(),
  rotate: integerParam("rotate", -360, 360)
    .optional()
    .openapi({ param: { name: "rotate", in: "query" }, type: "integer" }),
  flip: flag("flip"),
  flop: flag("flop"),
  grayscale: flag("grayscale"),
  format: z
    .enum(OUTPUT_FORMATS, { error: `Expected one of ${OUTPUT_FORMATS.join(", ")} for format` })
    .optional(),
  q: integerParam("q", 1, 100)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, type: "integer" }),
  mozjpeg: flag("mozjpeg"),
});

/**
 * The query as the pipeline spec the service takes, validated in one pass: each parameter on its
 * own (naming it), then the operations they make against PipelineSpecSchema (defaults filled),
 * whose issues are reported as the query's.
 */
const RenderQuery = RenderParams.transform((q, ctx): PipelineSpec => {
  const operations: PipelineSpecInput["operations"] = [];
  if (q.rotate) operations.push({ op: "rotate", angle: q.rotate, background: [0, 0, 0, 0] });
  if (q.flip) operations.push({ op: "flip" });
  if (q.flop) operations.push({ op: "flop" });
  if (q.w !== undefined || q.h !== undefined) {
    operations.push({
      op: "resize",
      width: q.w,
      height: q.h,
      fit: q.fit,
      position: q.position,
      kernel: q.kernel,
    });
  }
  if (q.grayscale) operations.push({ op: "grayscale" });
  const spec = PipelineSpecSchema.safeParse({
    operations,
    format: q.format,
    quality: q.q,
    mozjpeg: q.mozjpeg,
  });
  if (spec.success) return spec.data;
  for (const issue of spec.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
  return z.NEVER;
});

// Zod builds a schema's parser on its first parse: ~10 ms for this one (the pipeline spec inside
// included), paid here at start-up rather than by the first <img> that asks for a rendering.
RenderQuery.parse({ w: "1" });

// A year: the most RFC 9111 caches are asked to keep anything.
const MAX_AGE = 31_536_000;

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

const route = createRoute({
  ...COMPUTE_READ,
  method: "get",
  path: "/{id}/render",
  tags: ["images"],
  summary: "Render a variant, for <img src> and CDNs",
  description:
    "The bytes directly. Applied in this order: EXIF orientation, `rotate`, `flip`, `flop`, " +
    "resize to `w`×`h` (`fit`, `position`, `kernel`), `grayscale`; then `format` (`auto`: AVIF, " +
    "WebP or JPEG from the Accept header, with `Vary: Accept`) at quality `q`; JPEG with " +
    "`mozjpeg=true` is encoded by MozJPEG (about a fifth smaller, 4–5× slower to encode: worth " +
    "it for a rendering encoded once and served often). Each distinct rendering is computed " +
    "once and cached; ETag and `Cache-Control: immutable` let clients and CDNs keep it, and " +
    "`Vary: Authorization, X-API-Key` keeps a shared cache from serving it to another user. " +
    "Through a signed URL (POST /v1/signed-urls) it needs no credential and is `public` until " +
    "the URL expires.",
  request: { params: ImageIdParams, query: RenderQuery },
  responses: {
    200: {
      description: "The rendered image",
      headers: { ETag: { schema: { type: "string" } } },
      content: {
        "image/jpeg": binary,
        "image/png": binary,
        "image/webp": binary,
        "image/avif": binary,
      },
    },
    304: { description: "Not modified" },
    ...problemResponses("not_found", "validation_failed", "unprocessable_image", "unavailable"),
  },
});

export function registerRenderImage(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const spec = c.req.valid("query");
    const rendering = await c.var.services.transforms.render(
      c.var.principal,
      id,
      spec,
      c.req.header("accept"),
    );
    const headers: Record<string, string> = {
      ETag: `"${rendering.sha256}"`,
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Render-Cache": rendering.cached ? "hit" : "miss",
    };
    const accept = spec.format === "auto" ? ["Accept"] : [];
    const signed = c.get("signedUrl") as { secondsLeft: number } | undefined;
    if (signed) {
      // Its URL is its authorisation: anyone holding it, a CDN included, may keep the bytes
      // until it expires, and nothing varies by credential.
      headers["Cache-Control"] = `public, max-age=${Math.min(MAX_AGE, signed.secondsLeft)}`;
      if (accept.length > 0) headers.Vary = accept.join(", ");
    } else {
      // A rendering is its owner's alone: `public` lets CDNs keep it, and varying on the
      // credential headers keeps a shared cache from serving it to anyone else (RFC 9111 §4.1).
      headers.Vary = [...accept, "Authorization", "X-API-Key"].join(", ");
    }
    if (matchesEtag(c.req.header("if-none-match"), headers.ETag as string))
      return c.body(null, 304, headers);
    headers["Content-Type"] = MEDIA_TYPES[rendering.format];
    headers["Content-Length"] = String(rendering.byteSize);
    return c.body(rendering.body as ReadableStream<Uint8Array<ArrayBuffer>>, 200, headers);
  });
}
