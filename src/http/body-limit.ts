import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "./env.ts";
import { multipartBoundary } from "./multipart.ts";

/**
 * Bounds the bodies that are parsed whole (JSON, forms) to `maxBytes`: 413 past it, read no
 * further. The multipart bodies of the `streamed` operations ("METHOD /path") pass, as they are
 * parsed a part at a time under their own limits (MAX_UPLOAD_BYTES, MAX_BATCH_FILES). Without
 * this, every JSON route, signup and token among them (which need no credential), would buffer
 * and parse whatever the server's own limit lets through: over a gigabyte by default.
 *
 * @example
 * app.use("/v1/*", limitParsedBodies({ maxBytes: 1024 * 1024, streamed: new Set(["POST /v1/images"]) }));
 */
export function limitParsedBodies(options: {
  maxBytes: number;
  streamed: ReadonlySet<string>;
}): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new ApiError(
        "payload_too_large",
        `Expected a request body of at most ${options.maxBytes} bytes`,
      );
    },
  });
  return async function limitParsedBody(c, next) {
    const streamed =
      options.streamed.has(`${c.req.method} ${c.req.path}`) &&
      multipartBoundary(c.req.header("content-type")) !== null;
    return streamed ? next() : limit(c, next);
  };
}
