import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Limits } from "../config/config.ts";
import type {
  ApiKeyService,
  AuthService,
  Principal,
  UserService,
} from "../features/accounts/index.ts";
import type { AnalysisService } from "../features/analysis/index.ts";
import type { ImageService } from "../features/images/index.ts";
import type { JobService } from "../features/jobs/index.ts";
import type { NotificationService, WebhookService } from "../features/notifications/index.ts";
import type { TransformService } from "../features/renders/index.ts";
import type { SegmentationService } from "../features/segmentations/index.ts";
import type { SignedUrlService } from "../features/signed-urls/index.ts";
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
  signedUrls: SignedUrlService;
  /** Origins whose pages may call the API (CORS_ORIGINS); empty: no CORS headers. */
  corsOrigins: readonly string[];
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
  /**
   * What the runtime adapter passes along with each request (absent under `app.request()`): the
   * client's address, and the services when they live only as long as the request (the edge
   * opens a database client per request; the app itself is built once).
   */
  Bindings: { clientAddress?: string | undefined; services?: Services | undefined };
  Variables: RequestIdVariables & {
    services: Services;
    /** Set by the authentication middleware on every route that is not public. */
    principal: Principal;
    /** Set with `principal` when the request is a verified signed URL: how long it has left. */
    signedUrl: { secondsLeft: number };
  };
};

export type App = OpenAPIHono<AppEnv>;
