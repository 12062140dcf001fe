import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { constantTimeEqual } from "../core/lib/encoding.ts";
import { ApiError } from "../platform/api-error.ts";
import { DURATION_BUCKETS, type Metrics } from "../platform/metrics.ts";
import type { AppEnv } from "./env.ts";
import { problemResponse } from "./problem.ts";

/**
 * Counts every response and its latency by method, route and status. The route is the matched
 * pattern (`/v1/images/:id`), never the path, so that ids do not make a series each; a path no
 * route serves is `unmatched`.
 */
export function measureRequests(metrics: Metrics): MiddlewareHandler<AppEnv> {
  const labelNames = ["method", "route", "status"] as const;
  const requests = metrics.counter({
    name: "pictor_http_requests_total",
    help: "HTTP responses by method, route pattern and status",
    labelNames,
  });
  const durations = metrics.histogram({
    name: "pictor_http_request_duration_seconds",
    help: "Time to the response's headers by method, route pattern and status",
    labelNames,
    buckets: DURATION_BUCKETS,
  });
  return async function measureRequest(c, next) {
    const started = performance.now();
    await next();
    // Middleware match every path (method ALL); the operation, if any, is the last other match.
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? "unmatched";
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    requests.inc(labels);
    durations.observe(labels, (performance.now() - started) / 1000);
  };
}

/**
 * Answers a Prometheus scrape with `metrics`' exposition: a Web-standard handler, served at
 * `/metrics` by the API and on WORKER_METRICS_PORT by a job worker. With a token, a scrape
 * without `Authorization: Bearer <token>` gets 401; where nothing is exported, 404.
 *
 * @example
 * Bun.serve({ port, fetch: serveMetrics(metrics, config.metricsToken) });
 */
export function serveMetrics(
  metrics: Metrics,
  token: string | undefined,
): (request: Request) => Promise<Response> {
  const expected = token ? `Bearer ${token}` : undefined;
  return async function scrape(request) {
    const refuse = (err: ApiError) => problemResponse(err, undefined);
    if (new URL(request.url).pathname !== "/metrics") {
      return refuse(new ApiError("not_found", "Metrics are at /metrics"));
    }
    if (expected && !constantTimeEqual(request.headers.get("authorization") ?? "", expected)) {
      return refuse(
        new ApiError("unauthorized", "Send Authorization: Bearer <METRICS_TOKEN>", {
          headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
        }),
      );
    }
    const exposition = await metrics.expose();
    if (!exposition) return refuse(new ApiError("not_found", "This runtime exports no metrics"));
    return new Response(exposition.body, {
      headers: { "Content-Type": exposition.contentType, "Cache-Control": "no-store" },
    });
  };
}
