import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { JobIdParams } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}/events",
  tags: ["jobs"],
  summary: "Follow a job: Server-Sent Events",
  description:
    "A `text/event-stream` of the job's events, oldest first: `progress` (`{status, total, " +
    "done, failed, canceled, percent}`), `item` (an item finished or will be retried: its " +
    "`item_id`, `position`, `image_id`, `status`, `attempts`, `result_id`, `error`) and last " +
    "`done` (the final status), after which the stream ends. Each event's `id` is its place in " +
    "the job's history: reconnect with `Last-Event-ID` (EventSource does) to get exactly the " +
    "events after it. A comment line every 15 s keeps idle connections open.",
  request: {
    params: JobIdParams,
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,18}$/, "Expected the id of a previous event (an integer) for Last-Event-ID")
        .optional()
        .openapi({ param: { name: "last-event-id", in: "header" }, example: "1042" }),
    }),
  },
  responses: {
    200: {
      description: "The event stream",
      content: {
        "text/event-stream": {
          schema: z.string().openapi({
            example: 'id: 1042\nevent: progress\ndata: {"status":"running","percent":40}\n\n',
          }),
        },
      },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerJobEvents(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const after = c.req.valid("header")["last-event-id"] ?? "0";
    // Opened before the response starts, so an unknown job is still a plain 404.
    const feed = await c.var.services.jobs.events(c.var.principal, id, after);
    const { logger } = c.var.services;
    return streamSSE(
      c,
      async (stream) => {
        stream.onAbort(() => feed.close());
        for await (const message of feed) {
          if (stream.aborted) break;
          if (message.type === "heartbeat") await stream.write(": heartbeat\n\n");
          else {
            await stream.writeSSE({
              id: message.id,
              event: message.type,
              data: JSON.stringify(message.data),
            });
          }
        }
        feed.close();
      },
      async (err) => {
        feed.close();
        logger.error("job event stream failed", { job_id: id, error: err.message });
      },
    );
  });
}
