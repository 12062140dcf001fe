/**
 * The one error type of Pictor. Services throw it; the HTTP layer maps it to an RFC 9457
 * `application/problem+json` body. It carries no HTTP framework types so that services stay
 * usable from workers and jobs.
 */
export const PROBLEMS = {
  bad_request: { status: 400, title: "Bad request" },
  /** OAuth2's name (RFC 6749 §5.2) for credentials the token endpoint refuses. */
  invalid_grant: { status: 400, title: "Invalid grant" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  headers_too_large: { status: 431, title: "Request header fields too large" },
  validation_failed: { status: 422, title: "Validation failed" },
  unprocessable_image: { status: 422, title: "Unprocessable image" },
  too_many_requests: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;
export type ProblemStatus = (typeof PROBLEMS)[ProblemCode]["status"];

export type FieldError = { path: string; message: string };

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ProblemStatus;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: {
      /** Field-level validation errors. */
      errors?: FieldError[];
      headers?: Record<string, string>;
      /** Extension members of the problem document (RFC 9457 §3.2). */
      members?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.status = PROBLEMS[code].status;
    this.title = PROBLEMS[code].title;
  }
}

/** The problem `type` URI of a code, relative to the API's base. */
export const problemType = (code: ProblemCode) => `/problems/${code.replaceAll("_", "-")}`;
