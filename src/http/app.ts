import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import {
  adminRoutes,
  apiKeysRoutes,
  authRoutes,
  meRoutes,
  oauthTokenErrors,
} from "../features/accounts/index.ts";
import { imageAnalysisRoutes } from "../features/analysis/index.ts";
import { imagesRoutes } from "../features/images/index.ts";
import { jobsRoutes } from "../features/jobs/index.ts";
import { meNotificationsRoutes, webhooksRoutes } from "../features/notifications/index.ts";
import { imageRenderRoutes } from "../features/renders/index.ts";
import { imageSegmentationsRoutes, segmentationsRoutes } from "../features/segmentations/index.ts";
import { webRoutes } from "../features/web/index.ts";
import { ApiError, type ProblemCode } from "../platform/api-error.ts";
import type { Metrics } from "../platform/metrics.ts";
import { authenticate, limitWritesAndCompute } from "./authenticate.ts";
import { limitParsedBodies } from "./body-limit.ts";
import { unsupportedContentType } from "./content-type.ts";
import { type DeclaredInput, declaredInputs } from "./declared-input.ts";
import type { App, AppEnv, Services } from "./env.ts";
import { FAVICON_SVG } from "./favicon.ts";
import { limitRequestHeaders } from "./header-limit.ts";
import { healthRoutes } from "./health-routes.ts";
import { measureRequests, serveMetrics } from "./metrics.ts";
import { completeDocument } from "./openapi-document.ts";
import { problemResponse } from "./problem.ts";
import { routeFlags } from "./route-flags.ts";
import { docsContentSecurityPolicy, securityHeaders } from "./security-headers.ts";
import { refuseUnknownFields } from "./unknown-fields.ts";
import { validationHook } from "./validation.ts";

export type AppOptions = {
  /**
   * The services of a process that builds them once; a host that builds them per request (the
   * edge) passes them with each request instead, as the `services` binding.
   */
  services?: Services;
  /**
   * Serves Swagger UI's files (swagger-ui.css, swagger-ui-bundle.js) for /docs. Runtimes that
   * can ship them pass a reader; without one, /docs loads them from a public CDN.
   */
  readDocsAsset?: (file: string) => Promise<Uint8Array | null>;
  /**
   * Where requests are measured, and `/metrics` serves them (behind `token` when set); without,
   * nothing is measured and `/metrics` is a 404 (the edge).
   */
  metrics?: { metrics: Metrics; token?: string | undefined };
};

const DOCS_ASSETS = "/docs/assets";
// Where @hono/swagger-ui loads Swagger UI's files from when this runtime ships none.
const DOCS_CDN = "https://cdn.jsdelivr.net";

// Room for the largest JSON body a route takes: a job over MAX_JOB_IMAGES (10 000) image ids is
// about 400 KB.
const MAX_PARSED_BODY_BYTES = 1024 * 1024;
// What a streamed upload carries besides its files: the other fields and the multipart framing.
const STREAMED_FIELDS_BYTES = 1024 * 1024;
// Bun's own default limit: a server started without --max-http-header-size refuses the same
// requests, only with a bodiless 431 where this one names the offending header.
const MAX_REQUEST_HEADER_BYTES = 16 * 1024;

const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "Pictor API",
    version: "0.1.0",
    description:
      "Image-processing HTTP service. Errors are `application/problem+json` (RFC 9457); " +
      "list endpoints answer `{items, next_cursor}`. Every operation but signup, token and " +
      "health needs a credential: use **Authorize** with your email and password, or paste " +
      "an access token or API key.",
  },
};

const HTTP_STATUS_CODES: Record<number, ProblemCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_failed",
  429: "too_many_requests",
  503: "unavailable",
};

function withServices(fixed: Services | undefined): MiddlewareHandler<AppEnv> {
  return async function injectServices(c, next) {
    const services = c.env?.services ?? fixed;
    if (!services) throw new Error("No services: give them to createApp, or with each request");
    c.set("services", services);
    await next();
  };
}

function requestLog(): MiddlewareHandler<AppEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    await next();
    c.var.services.logger.info("request", {
      request_id: c.var.requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}

const FAVICON_PATH = "/favicon.svg";

/** Adds the icon link to the head of the Swagger UI page, which has no option for one. */
function linkFavicon(): MiddlewareHandler<AppEnv> {
  return async function addFaviconLink(c, next) {
    await next();
    const html = await c.res.text();
    const link = `<link rel="icon" type="image/svg+xml" href="${FAVICON_PATH}" />`;
    c.res = new Response(html.replace("</head>", `${link}</head>`), c.res);
  };
}

/** Methods that another route accepts on this path: the difference between a 404 and a 405. */
function allowedMethods(app: App, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const literal = route.path.replace(/[.+?^$()|[\]\\]/g, "\\$&");
    const pattern = new RegExp(`^${literal.replace(/:[^/]+/g, "[^/]+")}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  return [...methods];
}

function toApiError(
  err: Error,
  c: Context<AppEnv>,
  declared: (c: Context<AppEnv>) => DeclaredInput | undefined,
): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[err.status];
    // zod-openapi's media-type check says only "Unsupported Media Type": say what to send.
    if (code === "unsupported_media_type") {
      const accepted = [...(declared(c)?.bodies.keys() ?? [])];
      return unsupportedContentType(accepted, c.req.header("content-type"));
    }
    if (code) return new ApiError(code, err.message || "The request cannot be served");
  }
  return null;
}

/**
 * The whole HTTP API, built once from injected services (or with services given per request):
 * no I/O client is created here, so the same app runs under Bun, in tests (`app.request()`) and
 * on edge runtimes.
 */
export function createApp({ services, readDocsAsset, metrics }: AppOptions): App {
  const app: App = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Built at the first request, when every route is registered, and kept: generating it takes
  // about 25 ms of CPU, which a client needing no credential could otherwise ask for in a loop.
  let document: ReturnType<typeof completeDocument> | undefined;
  const openApiDocument = () => {
    document ??= completeDocument(app.getOpenAPI31Document(DOCUMENT_CONFIG));
    return document;
  };
  const declared = declaredInputs(openApiDocument);
  // First, so that its clock covers every other middleware and it sees every final status.
  if (metrics) app.use(measureRequests(metrics.metrics));
  app.use(
    requestId({ headerName: "X-Request-Id" }),
    withServices(services),
    requestLog(),
    securityHeaders(),
    limitRequestHeaders({ maxBytes: MAX_REQUEST_HEADER_BYTES }),
  );
  // Outside the middleware below, so that its refusals of a token request get OAuth2's members.
  app.use("/v1/auth/token", oauthTokenErrors());
  // Before every /v1 route: Hono runs handlers in the order they were added.
  // What each route declares (public, compute, streamed), read off its definition.
  const flags = routeFlags(app);
  app.use(
    "/v1/*",
    // A path no operation serves is a 404 (or a 405) before any credential is asked for: the
    // routes are public in /openapi.json anyway, and a 401 there sends a client looking for a
    // token problem instead of a typo.
    authenticate({ isPublic: (c) => flags(c).public || !flags(c).served }),
    limitWritesAndCompute({ isCompute: (c) => flags(c).compute }),
    limitParsedBodies({
      maxBytes: MAX_PARSED_BODY_BYTES,
      maxStreamedBytes: (c) => {
        const { maxUploadBytes, maxBatchFiles } = c.var.services.limits;
        return maxUploadBytes * maxBatchFiles + STREAMED_FIELDS_BYTES;
      },
      isStreamed: (c) => flags(c).streamed,
    }),
  );
  // After the body limit: it reads the bodies it checks.
  app.use(refuseUnknownFields(declared));

  app.route("/", healthRoutes());
  app.route("/v1/auth", authRoutes());
  app.route("/v1/me", meRoutes());
  app.route("/v1/me", meNotificationsRoutes());
  app.route("/v1/api-keys", apiKeysRoutes());
  app.route("/v1/admin", adminRoutes());
  app.route("/v1/images", imagesRoutes());
  app.route("/v1/images", imageRenderRoutes());
  app.route("/v1/images", imageAnalysisRoutes());
  app.route("/v1/images", imageSegmentationsRoutes());
  app.route("/v1/segmentations", segmentationsRoutes());
  app.route("/v1/jobs", jobsRoutes());
  app.route("/v1/webhooks", webhooksRoutes());

  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  if (metrics) {
    const scrape = serveMetrics(metrics.metrics, metrics.token);
    app.get("/metrics", (c) => scrape(c.req.raw));
  }
  app.route("/", webRoutes());
  const docsPage = [
    docsContentSecurityPolicy({ assets: readDocsAsset ? "'self'" : DOCS_CDN }),
    linkFavicon(),
    swaggerUI({
      url: "/openapi.json",
      title: DOCUMENT_CONFIG.info.title,
      ...(readDocsAsset ? { baseUrl: DOCS_ASSETS } : {}),
    }),
  ] as const;
  app.get("/docs", ...docsPage);
  app.get("/docs/", ...docsPage);
  // Browsers ask for /favicon.ico whatever the page links; both paths answer the SVG.
  for (const path of [FAVICON_PATH, "/favicon.ico"]) {
    app.get(path, (c) =>
      c.body(FAVICON_SVG, 200, {
        "Content-Type": "image/svg+xml",
        "Cache-Control": "public, max-age=86400",
      }),
    );
  }
  if (readDocsAsset) {
    app.get(`${DOCS_ASSETS}/swagger-ui-dist/:file`, async (c) => {
      const file = c.req.param("file");
      const bytes = /^[\w.-]+\.(css|js)$/.test(file) ? await readDocsAsset(file) : null;
      if (!bytes) throw new ApiError("not_found", `No docs asset ${file}`);
      const type = file.endsWith(".css") ? "text/css" : "text/javascript";
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": `${type}; charset=utf-8`,
        "Cache-Control": "public, max-age=86400",
      });
    });
  }

  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    if (allow.length > 0) {
      const err = new ApiError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path}`,
        {
          headers: { Allow: allow.join(", ") },
        },
      );
      return problemResponse(err, c.var.requestId);
    }
    return problemResponse(
      new ApiError("not_found", `No route ${c.req.method} ${c.req.path}`),
      c.var.requestId,
    );
  });

  app.onError((err, c: Context<AppEnv>) => {
    const known = toApiError(err, c, declared);
    if (known) return problemResponse(known, c.var.requestId);
    c.var.services.logger.error("unhandled error", {
      request_id: c.var.requestId,
      error: err.message,
      stack: err.stack,
    });
    return problemResponse(
      new ApiError("internal", "Something went wrong on our side"),
      c.var.requestId,
    );
  });
  return app;
}
