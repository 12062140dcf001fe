import type { Hook } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { rangeMessage } from "../core/lib/parameter-messages.ts";
import { ApiError } from "../platform/api-error.ts";
import type { AppEnv } from "./env.ts";

/**
 * An integer parameter whose errors speak like sharp's: they name the parameter, its allowed
 * range and the value received.
 *
 * @example
 * integerParam("limit", 1, 100).parse("0"); // throws 'Expected an integer between 1 and 100 for limit but received "0"'
 */
export function integerParam(name: string, min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: rangeMessage("integer", name, min, max, raw) });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * The query of every list endpoint: `limit` (1–100, default 20) and the `cursor` a previous page
 * answered as `next_cursor`.
 *
 * @example
 * query: pageQuery(), // then c.req.valid("query") is { limit: number; cursor?: string }
 */
export const pageQuery = () =>
  z.object({
    limit: integerParam("limit", 1, 100)
      .default(20)
      .openapi({ param: { name: "limit", in: "query" }, type: "integer", example: 20 }),
    cursor: z
      .uuid({ error: "Expected the next_cursor of a previous page for cursor" })
      .optional()
      .openapi({ param: { name: "cursor", in: "query" } }),
  });

/** Turns a failed zod validation of any request part into one 422 problem listing every field. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const errors = result.error.issues.map((issue) => ({
    path: [result.target, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new ApiError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), {
    errors,
  });
};
