import { createRoute, z } from "@hono/zod-openapi";
import { zipStream } from "../../../core/lib/zip.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { COMPUTE_READ } from "../../../http/route-flags.ts";
import { JobIdParams } from "./schemas.ts";

const route = createRoute({
  ...COMPUTE_READ,
  method: "get",
  path: "/{id}/results.zip",
  tags: ["jobs"],
  summary: "Every result file of a job, as one ZIP archive (streamed)",
  description:
    "One file per succeeded item, named `<position>-<source name>` in job order: a derived " +
    "image as itself, a histogram as `.histogram.json`, a segmentation as its binary mask " +
    "`.mask.png` and its regions `.segmentation.json`. The files are stored, not compressed, " +
    "and streamed as they are read; a job still running gives the results so far. At most " +
    "65 535 files and 4 GiB (413 otherwise).",
  request: { params: JobIdParams },
  responses: {
    200: {
      description: "The archive",
      content: {
        "application/zip": { schema: z.string().openapi({ type: "string", format: "binary" }) },
      },
    },
    ...problemResponses("not_found", "validation_failed", "payload_too_large"),
  },
});

export function registerJobResults(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const entries = await c.var.services.jobs.archive(c.var.principal, id);
    return c.body(zipStream(entries), 200, {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="job-${id}-results.zip"`,
      "Cache-Control": "no-store",
    });
  });
}
