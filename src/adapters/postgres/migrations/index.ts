// Imported as text so that the migrations travel inside the bundle: edge runtimes have no
// filesystem to read them from at start.
import images from "./0001_images.sql" with { type: "text" };
import transforms from "./0002_transforms.sql" with { type: "text" };
import analysis from "./0003_analysis.sql" with { type: "text" };
import segmentations from "./0004_segmentations.sql" with { type: "text" };
import users from "./0005_users.sql" with { type: "text" };
import jobs from "./0006_jobs.sql" with { type: "text" };
import notifications from "./0007_notifications.sql" with { type: "text" };
import jobItemsClaimIndex from "./0008_job_items_claim_index.sql" with { type: "text" };
import usageCountsEverything from "./0009_usage_counts_everything.sql" with { type: "text" };
import sessions from "./0011_sessions.sql" with { type: "text" };
import retryingOutboxed from "./0013_retrying_items_outboxed_notifications.sql" with {
  type: "text",
};
import rateLimits from "./0014_rate_limits.sql" with { type: "text" };

export type Migration = { name: string; sql: string };

/** Every migration, in the order it is applied. Append; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { name: "0001_images", sql: images },
  { name: "0002_transforms", sql: transforms },
  { name: "0003_analysis", sql: analysis },
  { name: "0004_segmentations", sql: segmentations },
  { name: "0005_users", sql: users },
  { name: "0006_jobs", sql: jobs },
  { name: "0007_notifications", sql: notifications },
  { name: "0008_job_items_claim_index", sql: jobItemsClaimIndex },
  { name: "0009_usage_counts_everything", sql: usageCountsEverything },
  { name: "0011_sessions", sql: sessions },
  { name: "0013_retrying_items_outboxed_notifications", sql: retryingOutboxed },
  { name: "0014_rate_limits", sql: rateLimits },
];
