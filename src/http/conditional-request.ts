import { sha256Hex } from "../core/lib/encoding.ts";

/** True when an If-None-Match header names `etag` (or is `*`), per RFC 9110 §13.1.2. */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}

/**
 * A JSON answer that a client may revalidate: 304 when If-None-Match names the SHA-256 of its
 * bytes, else the bytes with that strong ETag. Analyses are answered from memory, so a page that
 * asks again costs a digest of a few KB instead of the transfer.
 */
export async function revalidatableJson(
  ifNoneMatch: string | undefined,
  value: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const etag = `"${await sha256Hex(body)}"`;
  const common = { ...headers, ETag: etag, "Cache-Control": "private, no-cache" };
  if (matchesEtag(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: common });
  return new Response(body, { headers: { ...common, "Content-Type": "application/json" } });
}

/** What a Range header asks of a representation of `size` bytes (RFC 9110 §14). */
export type RangeRequest =
  | { kind: "whole" }
  | { kind: "range"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * Reads a `Range: bytes=…` header for a representation of `size` bytes: one range (`a-b`, `a-`,
 * or the last `n` bytes as `-n`), clipped to the size. Anything else — no header, another unit,
 * several ranges, bad syntax, or an `If-Range` that is not the current `etag` — asks for the
 * whole (a server may ignore a Range it does not support, §14.2); a range starting past the end
 * is unsatisfiable (416).
 *
 * @example
 * byteRange("bytes=0-99", undefined, 1000, '"abc"'); // { kind: "range", start: 0, end: 99 }
 */
export function byteRange(
  range: string | undefined,
  ifRange: string | undefined,
  size: number,
  etag: string,
): RangeRequest {
  if (!range || (ifRange !== undefined && ifRange.trim() !== etag)) return { kind: "whole" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}
