import type { NotificationService } from "../../notify/notifications.ts";
import type { WebhookService } from "../../notify/webhooks.ts";

/**
 * What the notification routes need beyond the request. Passed to the route factories until
 * `Services` (src/http/env.ts) carries these two; the caller is `c.var.principal` either way.
 */
export type NotificationRouteDeps = {
  notifications: NotificationService;
  webhooks: WebhookService;
};
