import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Limits } from "../config/config.ts";
import type { ApiKeyService } from "../features/accounts/api-keys/api-key-service.ts";
import type { AuthService } from "../features/accounts/authentication-service.ts";
import type { Principal } from "../features/accounts/principal.ts";
import type { UserService } from "../features/accounts/user-service.ts";
import type { AnalysisService } from "../features/analysis/analysis-service.ts";
import type { ImageService } from "../features/images/image-service.ts";
import type { JobService } from "../features/jobs/job-service.ts";
import type { NotificationService } from "../features/notifications/notification-service.ts";
import type { WebhookService } from "../features/notifications/webhooks/webhook-service.ts";
import type { TransformService } from "../features/renders/render-service.ts";
import type { SegmentationService } from "../features/segmentations/segmentation-service.ts";
import type { Logger } from "../platform/logger.ts";
import type { RateLimiter } from "../platform/rate-limiter.ts";

/** What the routes get from the process that hosts them; built once from the config. */
export type Services = {
  images: ImageService;
  analysis: AnalysisService;
  segmentations: SegmentationService;
  transforms: TransformService;
  users: UserService;
  apiKeys: ApiKeyService;
  auth: AuthService;
  jobs: JobService;
  notifications: NotificationService;
  webhooks: WebhookService;
  rateLimits: {
    /** Write and compute requests, per user or API key; also login attempts per address. */
    requests: RateLimiter;
    /** Signups per client address. */
    signups: RateLimiter;
  };
  /** Client addresses come from X-Forwarded-For (behind a proxy that sets it). */
  trustProxy: boolean;
  limits: Limits;
  logger: Logger;
  /** Resolves when the database answers; rejects otherwise. */
  checkReady(): Promise<void>;
};

export type AppEnv = {
  /** What the runtime adapter passes along with each request (absent under `app.request()`). */
  Bindings: { clientAddress?: string | undefined };
  Variables: RequestIdVariables & {
    services: Services;
    /** Set by the authentication middleware on every route that is not public. */
    principal: Principal;
  };
};

export type App = OpenAPIHono<AppEnv>;
