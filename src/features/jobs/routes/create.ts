import { createRoute, z } from "@hono/zod-openapi";
import { type TaskSpec, TaskSpecSchema } from "../../../core/pipeline/task-spec.ts";
import { unsupportedContentType } from "../../../http/content-type.ts";
import type { App, Services } from "../../../http/env.ts";
import { type MultipartPart, multipartBoundary, parseMultipart } from "../../../http/multipart.ts";
import { problemResponses } from "../../../http/problem.ts";
import { STREAMED_UPLOAD } from "../../../http/route-flags.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { Principal } from "../../accounts/index.ts";
import type { IncomingFile } from "../../images/index.ts";
import {
  nothingStored,
  refused,
  UploadErrorSchema,
  UploadResultSchema,
  uploadBody,
} from "../../images/index.ts";
import { JobImageIdsSchema } from "../image-ids.ts";
import type { JobNotify, JobRecord } from "../types.ts";
import { CreateJobSchema, JobSchema, NotifySchema } from "./schemas.ts";

const AcceptedJobSchema = JobSchema.extend({
  images: UploadResultSchema.shape.images
    .optional()
    .openapi({ description: "Multipart only: the images stored for the job, in order." }),
  errors: z
    .array(UploadErrorSchema)
    .optional()
    .openapi({ description: "Multipart only: the files refused (not in the job), as an upload." }),
}).openapi("AcceptedJob");

const route = createRoute({
  ...STREAMED_UPLOAD,
  method: "post",
  path: "/",
  tags: ["jobs"],
  summary: "Submit a job: one task over many images",
  description:
    "JSON: `{image_ids, task, notify?}` over images already stored (yours; an id you cannot " +
    "see is a 422 naming it, and nothing is created). Multipart: `file` parts (stored first, " +
    "exactly as by `POST /v1/images`, with its limits and quotas) plus a `task` field holding " +
    "the task as JSON and an optional `notify` field; the job runs over the files that were " +
    "stored, and the refused ones are listed in `errors`. `task` is one of `{transform: …}`, " +
    "`{histogram: …}` or `{segmentation: …}`, validated as the single-image routes validate " +
    "them. A body is required. The job runs in the background: follow it at `Location`, or " +
    "stream its events from `/v1/jobs/{id}/events`.",
  request: {
    body: {
      // Optional to the validator only, so that a multipart body reaches the handler; the
      // handler refuses a request with neither.
      required: false,
      content: {
        "application/json": { schema: CreateJobSchema },
        // A plain schema, not zod: the parts are streamed, never buffered to be validated.
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["file", "task"],
            properties: {
              file: { type: "array", items: { type: "string", format: "binary" } },
              task: {
                type: "string",
                description: 'The task as JSON, e.g. {"histogram":{"space":"lab","bins":64}}',
              },
              notify: { type: "string", enum: ["always", "failure", "never"] },
            },
          },
        },
      },
    },
  },
  responses: {
    202: {
      description: "The job, accepted (queued); `Location` is its URL",
      headers: { Location: { schema: { type: "string" } } },
      content: { "application/json": { schema: AcceptedJobSchema } },
    },
    ...problemResponses("bad_request"),
    403: refused("Multipart, no file stored: the image count quota (MAX_USER_IMAGES) is reached"),
    413: refused("Multipart, no file stored: too large, too many files, or over the bytes quota"),
    415: refused("Neither JSON nor multipart; or, multipart, no file in a format Pictor reads"),
    422: refused(
      "Invalid task, notify or image ids (each named in `errors`); multipart: no file stored",
    ),
  },
});

const MAX_FIELD_BYTES = 64 * 1024;

/** A small text field of a multipart body (the task's JSON), bounded while it arrives. */
async function fieldText(part: MultipartPart): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of part.body) {
    size += chunk.length;
    if (size > MAX_FIELD_BYTES) {
      throw new ApiError(
        "validation_failed",
        `Expected at most ${MAX_FIELD_BYTES} bytes for ${part.name} but received more`,
        { errors: [{ path: `body.${part.name}`, message: "Too long" }] },
      );
    }
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** Reads past a part this route does not use. */
async function skip(part: MultipartPart): Promise<void> {
  const reader = part.body[Symbol.asyncIterator]();
  while (!(await reader.next()).done) {}
}

function fieldError(field: string, issues: { path: PropertyKey[]; message: string }[]): ApiError {
  const errors = issues.map((i) => ({
    path: ["body", field, ...i.path.map(String)].join("."),
    message: i.message,
  }));
  return new ApiError(
    "validation_failed",
    errors.map((e) => `${e.path}: ${e.message}`).join("; "),
    {
      errors,
    },
  );
}

async function taskField(part: MultipartPart): Promise<TaskSpec> {
  const text = await fieldText(part);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fieldError("task", [{ path: [], message: "Expected the task as JSON" }]);
  }
  const task = TaskSpecSchema.safeParse(value);
  if (!task.success) throw fieldError("task", task.error.issues);
  return task.data;
}

async function notifyField(part: MultipartPart): Promise<JobNotify> {
  const notify = NotifySchema.safeParse((await fieldText(part)).trim());
  if (!notify.success) throw fieldError("notify", notify.error.issues);
  return notify.data;
}

/**
 * Stores the files of a multipart job through the upload's own code path, then submits the job
 * over them. The fields may come before or after the files: one that is invalid before any file
 * stops the request at once; after, the files just stored are deleted again, so a refused
 * request leaves nothing behind either way.
 */
async function createFromUpload(
  services: Services,
  principal: Principal,
  body: ReadableStream<Uint8Array>,
  boundary: string,
) {
  const fields: { task?: TaskSpec; notify?: JobNotify; error?: ApiError } = {};
  let yielded = 0;
  async function* files(): AsyncGenerator<IncomingFile> {
    for await (const part of parseMultipart(body, boundary)) {
      if (part.name === "file") {
        yielded++;
        yield { filename: part.filename, body: part.body };
        continue;
      }
      try {
        if (part.name === "task") fields.task = await taskField(part);
        else if (part.name === "notify") fields.notify = await notifyField(part);
        else await skip(part);
      } catch (err) {
        if (yielded === 0 || !(err instanceof ApiError)) throw err;
        fields.error = err;
        return;
      }
    }
  }
  const uploaded = await services.images.upload(principal, files());
  const problem =
    fields.error ??
    (fields.task
      ? null
      : new ApiError("validation_failed", "The body has no task field", {
          errors: [{ path: "body.task", message: "Expected the task as JSON" }],
        }));
  if (problem || !fields.task) {
    for (const image of uploaded.images) await services.images.remove(principal, image.id);
    throw problem;
  }
  if (uploaded.images.length === 0) throw nothingStored(uploaded);
  const job = await services.jobs.create(principal, {
    image_ids: JobImageIdsSchema.parse(uploaded.images.map((i) => i.id)),
    task: fields.task,
    notify: fields.notify,
  });
  return { ...job, ...uploadBody(uploaded) };
}

export function registerCreateJob(app: App) {
  return app.openapi(route, async (c) => {
    const contentType = c.req.header("content-type");
    const boundary = multipartBoundary(contentType);
    let job: JobRecord;
    if (boundary && c.req.raw.body) {
      job = await createFromUpload(c.var.services, c.var.principal, c.req.raw.body, boundary);
    } else if (contentType && /^application\/json/i.test(contentType)) {
      // The validator did check the body; zod-openapi only types it when every media type has
      // a zod schema, and the multipart one must not (it would be buffered to validate it).
      const input = c.req.valid("json" as never) as z.output<typeof CreateJobSchema>;
      job = await c.var.services.jobs.create(c.var.principal, {
        image_ids: input.image_ids,
        task: input.task,
        notify: input.notify,
      });
    } else {
      throw unsupportedContentType(
        ["application/json", "multipart/form-data"],
        contentType,
        "(multipart: `file` parts and a `task` field)",
      );
    }
    return c.json(job, 202, { Location: `/v1/jobs/${job.id}` });
  });
}
