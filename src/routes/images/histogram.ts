import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../http/env.ts";
import { problemResponses } from "../../http/problem.ts";
import { integerParam } from "../../http/validation.ts";
import { COLOUR_SPACES } from "../../imaging/histogram.ts";
import { ImageIdParams } from "./schemas.ts";

const number = z.number();

const ChannelSchema = z.object({
  name: z.string().openapi({ example: "r" }),
  edges: z
    .array(number)
    .openapi({ description: "bins + 1 edges: bin i is [edges[i], edges[i+1])." }),
  counts: z.array(z.number().int()),
  min: number,
  max: number,
  mean: number,
  median: number,
  stddev: number,
  p1: number,
  p5: number,
  p95: number,
  p99: number,
  entropy: number.openapi({ description: "Shannon entropy of the counts, in bits." }),
});

const HistogramSchema = z
  .object({
    space: z.enum(COLOUR_SPACES),
    bins: z.number().int(),
    pixels: z.number().int().openapi({ description: "Pixels counted (alpha 0 is not)." }),
    channels: z.array(ChannelSchema),
  })
  .openapi("Histogram");

const route = createRoute({
  method: "get",
  path: "/{id}/histogram",
  tags: ["analysis"],
  summary: "Colour histogram and channel statistics",
  description:
    "Per channel of `space`: `bins` counts with their edges, min, max, mean, median, stddev, " +
    "p1, p5, p95, p99 and entropy. `rgb` and `luma` are 8-bit levels (luma: Rec. 709 weights " +
    "0.2126 R + 0.7152 G + 0.0722 B on the stored values); `hsv`: hue in degrees, saturation " +
    "and value 0–1; `lab`: CIE L*a*b* with a D65 white. Pixels with alpha 0 are not counted. " +
    "Computed once per parameters and cached.",
  request: {
    params: ImageIdParams,
    query: z.object({
      space: z
        .enum(COLOUR_SPACES, { error: `Expected one of ${COLOUR_SPACES.join(", ")} for space` })
        .default("rgb"),
      bins: integerParam("bins", 1, 256)
        .optional()
        .openapi({ param: { name: "bins", in: "query" }, type: "integer", example: 256 }),
    }),
  },
  responses: {
    200: {
      description: "The histogram",
      content: { "application/json": { schema: HistogramSchema } },
    },
    ...problemResponses("not_found", "validation_failed", "unprocessable_image", "unavailable"),
  },
});

export function registerImageHistogram(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { space, bins } = c.req.valid("query");
    const { result, cached } = await c.var.services.analysis.histogram(id, {
      space,
      bins: bins ?? 256,
    });
    return c.json(result, 200, { "X-Analysis-Cache": cached ? "hit" : "miss" });
  });
}
