// Notifications: what a finished job sends (email, webhooks), and each user's preferences.
export {
  type FailedItem,
  JOB_OUTCOMES,
  type JobOutcome,
  type JobResultFile,
  type JobSummary,
} from "./job-summary.ts";
export {
  EMAIL_PREFERENCES,
  NOTIFICATION_STATUSES,
  type NotificationRecord,
  type NotificationService,
} from "./notification-service.ts";
export { meNotificationsRoutes } from "./routes/index.ts";
export { webhooksRoutes } from "./webhooks/routes/index.ts";
export type { WebhookService } from "./webhooks/webhook-service.ts";
