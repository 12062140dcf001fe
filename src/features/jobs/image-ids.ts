import { z } from "zod";

/**
 * The most images one job may name (a multipart job is bounded by MAX_BATCH_FILES); as JSON,
 * about 400 KB, within the bound of parsed bodies (1 MiB).
 */
export const MAX_JOB_IMAGES = 10_000;

/**
 * A job's image ids as the service and the store take them: 1 to MAX_JOB_IMAGES distinct UUIDs,
 * lowercase. Checked once, where a request comes in (the body of POST /v1/jobs, or the ids of a
 * batch just uploaded); the branded type says it was, so nothing after it checks again.
 *
 * @example
 * JobImageIdsSchema.parse(["019AA3F2-6B1E-7000-8A4F-3C2D1E0F9A8B"]); // ["019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b"]
 */
export const JobImageIdsSchema = z
  .array(
    z.uuid({
      error: (issue) => `Expected an image id (a UUID) but received ${JSON.stringify(issue.input)}`,
    }),
    { error: "Expected an array of image ids for image_ids" },
  )
  .min(1, "Expected at least 1 image id for image_ids")
  .max(MAX_JOB_IMAGES, {
    error: (issue) =>
      `Expected at most ${MAX_JOB_IMAGES} image ids for image_ids but received ${
        Array.isArray(issue.input) ? issue.input.length : "more"
      }`,
  })
  .superRefine((ids, ctx) => {
    const seen = new Set<string>();
    for (const [index, id] of ids.entries()) {
      const key = id.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          path: [index],
          message: `Expected distinct image ids but received ${id} twice`,
        });
      }
      seen.add(key);
    }
  })
  .transform((ids) => ids.map((id) => id.toLowerCase()))
  .brand<"JobImageIds">();

export type JobImageIds = z.output<typeof JobImageIdsSchema>;
