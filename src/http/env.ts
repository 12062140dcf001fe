import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../auth/principal.ts";
import type { RateLimiter } from "../auth/rate-limit.ts";
import type { Limits } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { NotificationService } from "../notify/notifications.ts";
import type { WebhookService } from "../notify/webhooks.ts";
import type { AnalysisService } from "../services/analysis.ts";
import type { ApiKeyService } from "../services/api-keys.ts";
import type { AuthService } from "../services/auth.ts";
import type { ImageService } from "../services/images.ts";
import type { JobService } from "../services/jobs.ts";
import type { SegmentationService } from "../services/segmentations.ts";
import type { TransformService } from "../services/transforms.ts";
import type { UserService } from "../services/users.ts";

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
