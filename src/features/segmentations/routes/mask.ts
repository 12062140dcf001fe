import { createRoute, z } from "@hono/zod-openapi";
import { MASK_FORMATS, MASK_KINDS } from "../../../core/segmentation/mask-render.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { COMPUTE_READ } from "../../../http/route-flags.ts";
import { integerParam } from "../../../http/validation.ts";
import { SegmentationIdParams } from "./schemas.ts";

const RleSchema = z
  .object({
    size: z.array(z.number().int()).openapi({ description: "[height, width]" }),
    regions: z.array(
      z.object({
        label: z.number().int(),
        rle: z.object({ size: z.array(z.number().int()), counts: z.string() }),
      }),
    ),
  })
  .openapi("CocoRle", {
    description:
      "One COCO RLE per region: column-major runs, compressed as pycocotools writes them.",
  });

const route = createRoute({
  ...COMPUTE_READ,
  method: "get",
  path: "/{id}/mask",
  tags: ["analysis"],
  summary: "A segmentation as a mask picture or COCO RLE",
  description:
    "`kind`: `binary` (0/255 grey PNG), `labels` (8- or 16-bit grey PNG of the label numbers), " +
    "`overlay` (the image with tinted, outlined regions), `cutout` (RGBA, the mask as alpha). " +
    "`format`: `png`, `webp` (overlay and cutout only: lossy, smaller than the image's own " +
    "file) or `rle` (JSON, one COCO RLE per region); unset, `png`, except an overlay or cutout " +
    "of a JPEG, WebP or AVIF image, which is a WebP (its PNG would be many times the photo). " +
    "`region` limits it to one label.",
  request: {
    params: SegmentationIdParams,
    query: z.object({
      kind: z
        .enum(MASK_KINDS, { error: `Expected one of ${MASK_KINDS.join(", ")} for kind` })
        .default("binary"),
      format: z
        .enum(MASK_FORMATS, { error: `Expected one of ${MASK_FORMATS.join(", ")} for format` })
        .optional(),
      region: integerParam("region", 1, 2 ** 31 - 1)
        .optional()
        .openapi({ param: { name: "region", in: "query" }, type: "integer" }),
    }),
  },
  responses: {
    200: {
      description: "The mask",
      content: {
        "image/png": { schema: z.string().openapi({ type: "string", format: "binary" }) },
        "image/webp": { schema: z.string().openapi({ type: "string", format: "binary" }) },
        "application/json": { schema: RleSchema },
      },
    },
    ...problemResponses("not_found", "validation_failed", "unavailable"),
  },
});

export function registerSegmentationMask(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const out = await c.var.services.segmentations.mask(c.var.principal, id, c.req.valid("query"));
    if (out.format === "rle") return c.json(out.rle, 200);
    return c.body(out.bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": `image/${out.format}`,
    });
  });
}
