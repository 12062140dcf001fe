import type { App } from "./env.ts";
import { PROBLEM_MEDIA_TYPE } from "./problem.ts";
import { flagsOfOperation } from "./route-flags.ts";

type OpenAPIObject = ReturnType<App["getOpenAPI31Document"]>;

/**
 * How a client proves who it is. `oauth2` (the password flow against /v1/auth/token) is what
 * makes Swagger UI's Authorize button log in; `bearer` takes a token or an API key pasted in;
 * `apiKey` is the X-API-Key header.
 */
const SECURITY_SCHEMES = {
  oauth2: {
    type: "oauth2",
    description: "Email as username and password; Swagger UI's Authorize button logs in this way.",
    flows: { password: { tokenUrl: "/v1/auth/token", scopes: {} } },
  },
  bearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An access token from /v1/auth/token, or an API key (pk_…).",
  },
  apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "An API key (pk_…)." },
} as const;

/** Any one of the schemes will do. */
const SECURITY: Record<string, string[]>[] = [{ oauth2: [] }, { bearer: [] }, { apiKey: [] }];

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

const problem = (description: string) => ({
  description,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } },
});

/**
 * Completes the generated document with what the app-wide middleware answers, which no route
 * declares itself: the security schemes, and on every operation that does not say
 * `security: []` (the public ones) its requirement and 401; 429 on the rate-limited ones; on
 * every operation with a body, 400 (malformed), 413 (over the body limit) and 415 (a media type
 * it does not take), which the body validators answer before the handler runs; and 431 (over
 * the header limit) on every operation.
 */
export function completeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components = { ...doc.components, securitySchemes: { ...SECURITY_SCHEMES } };
  doc.security = SECURITY;
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.responses ??= {};
      op.responses["431"] ??= problem(
        "Request header fields too large: the URL and headers are over the limit",
      );
      if (op.requestBody) {
        op.responses["400"] ??= problem("Bad request: a malformed body");
        op.responses["413"] ??= problem("Payload too large: the body is over the size limit");
        op.responses["415"] ??= problem("Unsupported media type: see the accepted Content-Types");
      }
      if (Array.isArray(op.security) && op.security.length === 0) continue;
      op.security = SECURITY;
      op.responses["401"] ??= problem("Unauthorized: no, invalid, expired or revoked credentials");
      if (!["get", "head"].includes(method) || flagsOfOperation(op).compute) {
        op.responses["429"] ??= problem("Too many requests (RATE_LIMIT_REQUESTS); see Retry-After");
      }
    }
  }
  return doc;
}
