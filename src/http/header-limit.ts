import type { MiddlewareHandler } from "hono";
import { ApiError } from "../platform/api-error.ts";
import type { AppEnv } from "./env.ts";

/**
 * Refuses a request whose request line and header fields take more than `maxBytes` (as sent:
 * `Name: value` and a line break each) with a 431 problem naming the limit and the largest field
 * (RFC 6585 §5). The Bun server lets larger header sets through to here (its own limit, raised
 * by --max-http-header-size, answers a bodiless 431 before any code of ours runs), so that a
 * client over this limit learns which header is at fault.
 *
 * @example
 * app.use(limitRequestHeaders({ maxBytes: 16 * 1024 }));
 */
export function limitRequestHeaders(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  return async function limitRequestHeader(c, next) {
    const url = new URL(c.req.url);
    // "GET /path?query HTTP/1.1\r\n"
    let size = c.req.method.length + url.pathname.length + url.search.length + 12;
    let largest = { name: "", size: 0 };
    c.req.raw.headers.forEach((value, name) => {
      const field = name.length + value.length + 4;
      size += field;
      if (field > largest.size) largest = { name, size: field };
    });
    if (size > options.maxBytes) {
      const line = url.pathname.length + url.search.length;
      const culprit =
        line > largest.size
          ? `the URL (${line} bytes)`
          : `the ${largest.name} header (${largest.size} bytes)`;
      throw new ApiError(
        "headers_too_large",
        `Expected a request line and headers of at most ${options.maxBytes} bytes but received ${size}; the largest part is ${culprit}`,
      );
    }
    await next();
  };
}
