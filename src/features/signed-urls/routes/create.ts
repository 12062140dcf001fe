import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App, AppEnv } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ApiError } from "../../../platform/api-error.ts";
import { type SignableTarget, signableTarget } from "../signable.ts";
import { SIGNATURE_PARAMS } from "../signature.ts";

const SIGNABLE_PATHS =
  "/v1/images/{id}[/render|/file|/histogram|/palette], /v1/segmentations/{id}[/mask], " +
  "/v1/jobs/{id}[/items|/events|/results.zip]";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["delivery"],
  summary: "Sign a URL: a GET that works without a credential until it expires",
  description:
    "For `<img src>`, `EventSource`, links in emails and CDNs, which cannot send a credential. " +
    `\`path\` is one of ${SIGNABLE_PATHS}, with its query; you must be able to read it now ` +
    "(another user's resource is a 404). The answer's `url` (PUBLIC_URL, the path, the query, " +
    "then `expires`, `kid`, `by` and `sig`) acts as you for that one GET: any change to it is a " +
    "403, and so is using it after `expires_at`, once its key is rotated out of " +
    "URL_SIGNING_KEYS or once your account is disabled. A signed render is publicly cacheable " +
    "(`Cache-Control: public, max-age` up to its expiry).",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            path: z
              .string({ error: "Expected a string for path" })
              .min(1, "Expected a path such as /v1/images/{id}/render?w=400 for path")
              .max(4096, "Expected at most 4096 characters for path")
              .openapi({ example: "/v1/images/0b6e4a3c-5f1d-4e8a-9c2b-7d3f1a2b3c4d/render?w=400" }),
            expires_in: z
              .number({ error: "Expected an integer number of seconds for expires_in" })
              .int("Expected an integer number of seconds for expires_in")
              .openapi({ example: 3600, description: "Seconds, 1 to SIGNED_URL_MAX_TTL_SECONDS" }),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "The signed URL",
      content: {
        "application/json": {
          schema: z.object({ url: z.string(), expires_at: z.string() }).openapi("SignedUrl"),
        },
      },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

function invalidPath(message: string): ApiError {
  return new ApiError("validation_failed", `${message} for path`, {
    errors: [{ path: "json.path", message }],
  });
}

/** 404 unless the caller may read the resource now, as a GET of it would answer. */
async function ensureReadable(c: Context<AppEnv>, target: SignableTarget): Promise<void> {
  const { principal, services } = c.var;
  if (target.kind === "image") await services.images.get(principal, target.id);
  else if (target.kind === "segmentation") await services.segmentations.get(principal, target.id);
  else await services.jobs.get(principal, target.id);
}

export function registerCreateSignedUrl(app: App) {
  return app.openapi(route, async (c) => {
    const { path, expires_in } = c.req.valid("json");
    const max = c.var.services.signedUrls.maxTtlSeconds;
    if (expires_in < 1 || expires_in > max) {
      const message = `Expected an integer between 1 and ${max} for expires_in but received ${expires_in}`;
      throw new ApiError("validation_failed", message, {
        errors: [{ path: "json.expires_in", message }],
      });
    }
    const base = "http://signing.invalid";
    const url = /^\/(?![/\\])/.test(path) ? new URL(path, base) : null;
    if (!url || url.origin !== base || url.hash) {
      throw invalidPath("Expected a path starting with /v1/ (no scheme, host or #fragment)");
    }
    const target = signableTarget(url.pathname);
    if (!target) throw invalidPath(`Expected one of ${SIGNABLE_PATHS}`);
    const taken = SIGNATURE_PARAMS.filter((name) => url.searchParams.has(name));
    if (taken.length > 0) {
      throw invalidPath(`Expected a query without ${taken.join(", ")} (the signature's own)`);
    }
    await ensureReadable(c, target);
    const signed = await c.var.services.signedUrls.sign(
      c.var.principal.userId,
      `${url.pathname}${url.search}`,
      expires_in,
    );
    return c.json(signed, 201, { "Cache-Control": "no-store" });
  });
}
