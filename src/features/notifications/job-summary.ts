import { z } from "zod";

/**
 * What notifications know of a finished job: a plain, JSON-serialisable snapshot taken when the
 * job reached its final state and stored with each notification, so a delivery (possibly days of
 * retries later, in another process) needs neither the jobs tables nor the job's current state.
 */
export const JOB_OUTCOMES = ["succeeded", "partially_failed", "failed", "canceled"] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

const count = z.number().int().min(0);

export const JobResultFileSchema = z.object({
  /** What the jobs module needs to read the file back (e.g. the derived image's id). */
  id: z.string().min(1),
  filename: z.string().min(1),
  content_type: z.string().min(1),
  /**
   * Size in bytes; null when it is not stored (a histogram's JSON, a segmentation's mask): the
   * dispatcher then reads the file to learn it before deciding to attach.
   */
  bytes: count.nullable().optional(),
});
export type JobResultFile = z.infer<typeof JobResultFileSchema>;

export const FailedItemSchema = z.object({
  image_id: z.string().nullable().optional(),
  filename: z.string().nullable().optional(),
  error: z.string(),
});
export type FailedItem = z.infer<typeof FailedItemSchema>;

export const JobSummarySchema = z.object({
  id: z.uuid(),
  owner_id: z.uuid(),
  /** What the job did, e.g. "transform", "histogram". */
  kind: z.string().nullable().optional(),
  status: z.enum(JOB_OUTCOMES),
  counts: z.object({ total: count, succeeded: count, failed: count, canceled: count }),
  created_at: z.iso.datetime({ offset: true }).nullable().optional(),
  /** Null when the job was canceled before any item started. */
  started_at: z.iso.datetime({ offset: true }).nullable(),
  finished_at: z.iso.datetime({ offset: true }),
  /** A job-level error (e.g. "canceled by the user"), beside the items' own. */
  error: z.string().nullable().optional(),
  /** The failed items with their reasons; may be a prefix of all of them (counts.failed is all). */
  failed_items: z.array(FailedItemSchema),
  results: z.array(JobResultFileSchema),
});
export type JobSummary = z.infer<typeof JobSummarySchema>;

/** Webhook event names, one per final state. */
export const JOB_EVENTS = [
  "job.succeeded",
  "job.partially_failed",
  "job.failed",
  "job.canceled",
] as const;
export type JobEvent = (typeof JOB_EVENTS)[number];

export const eventOf = (status: JobOutcome): JobEvent => `job.${status}`;

/** The two links every notification carries. */
export function jobLinks(publicUrl: string, jobId: string): { job: string; results: string } {
  const base = `${publicUrl.replace(/\/+$/, "")}/v1/jobs/${encodeURIComponent(jobId)}`;
  return { job: base, results: `${base}/results.zip` };
}
