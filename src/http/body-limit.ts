import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../platform/api-error.ts";
import type { AppEnv } from "./env.ts";
import { multipartBoundary } from "./multipart.ts";

const tooLarge = (detail: string) =>
  new ApiError("payload_too_large", detail, {
    // The rest of the body is never read: closing tells the client to stop sending it
    // (RFC 9110 §15.5.14).
    headers: { Connection: "close" },
  });

/** `body` as it arrives, failing with `error` once more than `maxBytes` came through. */
function countedBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  error: ApiError,
): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.length;
        if (size > maxBytes) controller.error(error);
        else controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Bounds request bodies, 413 past the bound, reading no further. Bodies that are parsed whole
 * (JSON, forms) are held to `maxBytes`: without this, every JSON route, signup and token among
 * them (which need no credential), would buffer and parse whatever arrives. The multipart
 * bodies of the routes that `isStreamed` says take uploads are parsed a part at a time under their
 * own limits (MAX_UPLOAD_BYTES, MAX_BATCH_FILES) and held as a whole to `maxStreamedBytes`,
 * checked on the declared Content-Length at once and counted as a chunked body streams.
 *
 * This is the only body limit: the Bun server sets no effective one of its own, because Bun's
 * refusal is an empty 413 answered before the app runs (honojs/hono#2671).
 *
 * @example
 * app.use("/v1/*", limitParsedBodies({ maxBytes: 1024 * 1024, maxStreamedBytes: () => 2 ** 30, isStreamed: (c) => flags(c).streamed }));
 */
export function limitParsedBodies(options: {
  maxBytes: number;
  /** Read per request: the edge's services (and their limits) come with each request. */
  maxStreamedBytes: (c: Context<AppEnv>) => number;
  isStreamed: (c: Context<AppEnv>) => boolean;
}): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw tooLarge(`Expected a request body of at most ${options.maxBytes} bytes`);
    },
  });
  const streamedTooLarge = (max: number) =>
    tooLarge(
      `Expected an upload body of at most ${max} bytes (MAX_BATCH_FILES files of MAX_UPLOAD_BYTES, plus 1 MiB for the other fields and the multipart framing)`,
    );
  return async function limitParsedBody(c, next) {
    const streamed =
      options.isStreamed(c) && multipartBoundary(c.req.header("content-type")) !== null;
    if (!streamed) return limit(c, next);
    const body = c.req.raw.body;
    if (!body) return next();
    const max = options.maxStreamedBytes(c);
    const declared = c.req.header("content-length");
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      const length = Number(declared);
      if (!Number.isSafeInteger(length) || length < 0 || length > max) throw streamedTooLarge(max);
      return next();
    }
    c.req.raw = new Request(c.req.raw, {
      body: countedBody(body, max, streamedTooLarge(max)),
    });
    return next();
  };
}
