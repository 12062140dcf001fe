import { z } from "@hono/zod-openapi";
import { type ApiError, PROBLEMS, type ProblemCode, problemType } from "../platform/api-error.ts";

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

export const FieldErrorSchema = z
  .object({
    path: z.string().openapi({ example: "query.limit" }),
    message: z.string(),
  })
  .openapi("FieldError");

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "/problems/validation-failed" }),
    title: z.string().openapi({ example: "Validation failed" }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z
      .string()
      .openapi({ example: "Expected an integer between 1 and 100 for limit but received 0" }),
    request_id: z.string().optional(),
    errors: z
      .array(FieldErrorSchema)
      .optional()
      .openapi({ description: "Field-level validation errors: the offending parameter paths." }),
  })
  .openapi("Problem", { description: "An RFC 9457 problem document." });

/**
 * OpenAPI response declarations for the problems a route can answer with.
 *
 * @example
 * responses: { 200: ..., ...problemResponses("not_found", "validation_failed") }
 */
export function problemResponses(...codes: ProblemCode[]) {
  const out: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const code of [...codes, "internal" as const]) {
    const { status, title } = PROBLEMS[code];
    const previous = out[status]?.description;
    out[status] = {
      description: previous ? `${previous}; ${title}` : title,
      content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } },
    };
  }
  return out;
}

/** The problem+json response for an ApiError. */
export function problemResponse(err: ApiError, requestId: string | undefined): Response {
  const headers = new Headers(err.extra.headers);
  headers.set("Content-Type", PROBLEM_MEDIA_TYPE);
  // A Response built here bypasses the headers middleware set on the context, so repeat the id.
  if (requestId) headers.set("X-Request-Id", requestId);
  return new Response(
    JSON.stringify({
      type: problemType(err.code),
      title: err.title,
      status: err.status,
      detail: err.detail,
      ...(requestId ? { request_id: requestId } : {}),
      ...(err.extra.errors ? { errors: err.extra.errors } : {}),
      ...err.extra.members,
    }),
    { status: err.status, headers },
  );
}
