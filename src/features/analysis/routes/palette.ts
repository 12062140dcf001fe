import { createRoute, z } from "@hono/zod-openapi";
import { MAX_PALETTE_COLOURS } from "../../../core/analysis/palette.ts";
import { revalidatableJson } from "../../../http/conditional-request.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { COMPUTE_READ } from "../../../http/route-flags.ts";
import { integerParam } from "../../../http/validation.ts";
import { ImageIdParams } from "../../images/index.ts";

const DEFAULT_COLOURS = 5;

const ColourSchema = z.object({
  hex: z.string().openapi({ example: "#3f4a51" }),
  rgb: z
    .array(z.number().int())
    .length(3)
    .openapi({ example: [63, 74, 81] }),
  lab: z
    .array(z.number())
    .length(3)
    .openapi({ description: "CIE L*a*b* (D65)", example: [30.76, -2.63, -5.63] }),
  pixels: z.number().int(),
  share: z.number().openapi({ description: "Of the pixels counted; the shares sum to 1." }),
});

const PaletteSchema = z
  .object({
    pixels: z.number().int().openapi({ description: "Pixels counted (alpha 0 is not)." }),
    colors: z.array(ColourSchema),
  })
  .openapi("Palette");

const route = createRoute({
  ...COMPUTE_READ,
  method: "get",
  path: "/{id}/palette",
  tags: ["analysis"],
  summary: "Dominant colours",
  description:
    "At most `colors` colours, largest share first: median cut on a 5-bit-per-channel colour " +
    "histogram, refined by k-means in CIE L*a*b*. Each colour is the mean of its cluster's " +
    "pixels. Pixels with alpha 0 are not counted. Computed once per parameters and cached.",
  request: {
    params: ImageIdParams,
    query: z.object({
      colors: integerParam("colors", 1, MAX_PALETTE_COLOURS)
        .optional()
        .openapi({
          param: { name: "colors", in: "query" },
          type: "integer",
          example: DEFAULT_COLOURS,
        }),
    }),
  },
  responses: {
    200: {
      description: "The palette",
      headers: { ETag: { schema: { type: "string" } } },
      content: { "application/json": { schema: PaletteSchema } },
    },
    304: { description: "Not modified: the client's palette is current" },
    ...problemResponses("not_found", "validation_failed", "unprocessable_image", "unavailable"),
  },
});

export function registerImagePalette(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { colors } = c.req.valid("query");
    const { result, cached } = await c.var.services.analysis.palette(c.var.principal, id, {
      colors: colors ?? DEFAULT_COLOURS,
    });
    return revalidatableJson(c.req.header("if-none-match"), result, {
      "X-Analysis-Cache": cached ? "hit" : "miss",
    });
  });
}
