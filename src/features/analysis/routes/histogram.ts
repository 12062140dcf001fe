import { createRoute, z } from "@hono/zod-openapi";
import { COLOUR_SPACES } from "../../../core/analysis/histogram.ts";
import { CHART_SCALES } from "../../../core/analysis/histogram-chart.ts";
import { matchesEtag, revalidatableJson } from "../../../http/conditional-request.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { COMPUTE_READ } from "../../../http/route-flags.ts";
import { integerParam } from "../../../http/validation.ts";
import { ImageIdParams } from "../../images/index.ts";

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

const CHART_FORMATS = ["json", "svg", "png"] as const;

const route = createRoute({
  ...COMPUTE_READ,
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
      mask: z
        .uuid({ error: "Expected a segmentation id for mask" })
        .optional()
        .openapi({
          param: { name: "mask", in: "query" },
          description: "A segmentation of this image",
        }),
      region: integerParam("region", 1, 2 ** 31 - 1)
        .optional()
        .openapi({ param: { name: "region", in: "query" }, type: "integer" }),
      format: z
        .enum(CHART_FORMATS, {
          error: `Expected one of ${CHART_FORMATS.join(", ")} for format`,
        })
        .default("json")
        .openapi({
          description:
            "`json`: the numbers; `svg` or `png`: a chart of them (RGB and luma on one panel, " +
            "HSV and Lab a panel per channel; Lab's a and b axes span the values present), " +
            "with an ETag",
        }),
      scale: z
        .enum(CHART_SCALES, { error: `Expected one of ${CHART_SCALES.join(", ")} for scale` })
        .default("linear")
        .openapi({
          description:
            "The chart's count axis (`svg`, `png`): `log` by decades, so that a photo's few " +
            "huge bins (clipped blacks and whites) do not flatten the rest",
        }),
    }),
  },
  responses: {
    200: {
      description: "The histogram, or its chart",
      headers: { ETag: { schema: { type: "string" } } },
      content: {
        "application/json": { schema: HistogramSchema },
        "image/svg+xml": { schema: z.string() },
        "image/png": { schema: z.string().openapi({ type: "string", format: "binary" }) },
      },
    },
    304: { description: "Not modified: the client's copy (JSON or chart) is current" },
    ...problemResponses("not_found", "validation_failed", "unprocessable_image", "unavailable"),
  },
});

export function registerImageHistogram(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { space, bins, mask, region, format, scale } = c.req.valid("query");
    const { result, cached } = await c.var.services.analysis.histogram(c.var.principal, id, {
      space,
      bins: bins ?? 256,
      mask,
      region,
    });
    const headers: Record<string, string> = { "X-Analysis-Cache": cached ? "hit" : "miss" };
    if (format === "json") return revalidatableJson(c.req.header("if-none-match"), result, headers);
    const chart = await c.var.services.analysis.drawHistogram(
      c.var.principal,
      result,
      format,
      scale,
    );
    headers.ETag = chart.etag;
    headers["Cache-Control"] = "private, no-cache";
    if (matchesEtag(c.req.header("if-none-match"), chart.etag)) return c.body(null, 304, headers);
    headers["Content-Type"] = chart.mediaType;
    return c.body(chart.bytes as Uint8Array<ArrayBuffer>, 200, headers);
  });
}
