import { ApiError } from "../platform/api-error.ts";

export type MultipartPart = {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  /** The part's bytes as they arrive. Read it (or not) before asking for the next part. */
  body: AsyncIterable<Uint8Array>;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The boundary of a `multipart/form-data` Content-Type, or null when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0] as number;
  for (let i = haystack.indexOf(first, from); i !== -1; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function dispositionParam(header: string, param: string): string | undefined {
  const match = new RegExp(`;\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i").exec(
    header,
  );
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2];
}

const malformed = (detail: string) =>
  new ApiError("bad_request", `Malformed multipart body: ${detail}`);

/**
 * Parses a `multipart/form-data` body as a stream: one part at a time, each part's bytes handed on
 * as they arrive, so a batch of large files needs memory for a chunk, not for the batch
 * (`Request.formData()` and Hono's `parseBody()` buffer everything).
 */
export async function* parseMultipart(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  maxHeaderBytes = 16 * 1024,
): AsyncGenerator<MultipartPart> {
  const reader = stream.getReader();
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  // The first boundary has no CRLF in front of it; pretend it has, so one search finds them all.
  let buf: Uint8Array = encoder.encode("\r\n");
  let ended = false;

  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      return false;
    }
    buf = concat(buf, value);
    return true;
  };
  const need = async (n: number) => {
    while (buf.length < n) if (!(await fill())) throw malformed("unexpected end of body");
  };

  try {
    for (;;) {
      const at = indexOfBytes(buf, delimiter);
      if (at !== -1) {
        buf = buf.subarray(at + delimiter.length);
        break;
      }
      buf = buf.subarray(Math.max(0, buf.length - delimiter.length));
      if (!(await fill())) throw malformed("no boundary found");
    }

    for (;;) {
      await need(2);
      if (buf[0] === 0x2d && buf[1] === 0x2d) return; // "--": the closing boundary
      let headerEnd = indexOfBytes(buf, encoder.encode("\r\n\r\n"));
      while (headerEnd === -1 && buf.length <= maxHeaderBytes) {
        if (!(await fill())) throw malformed("unexpected end of part headers");
        headerEnd = indexOfBytes(buf, encoder.encode("\r\n\r\n"));
      }
      // Checked on the headers found too, not only while waiting for their end: a chunk can hold
      // a part's oversized headers whole.
      if (headerEnd === -1 || headerEnd > maxHeaderBytes) {
        throw new ApiError(
          "payload_too_large",
          `Expected the headers of a multipart part to take at most ${maxHeaderBytes} bytes but they take ${headerEnd === -1 ? `over ${buf.length}` : headerEnd}`,
        );
      }
      const headers = new Map<string, string>();
      for (const line of decoder.decode(buf.subarray(0, headerEnd)).split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0)
          headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      buf = buf.subarray(headerEnd + 4);
      const disposition = headers.get("content-disposition") ?? "";
      const name = dispositionParam(disposition, "name");
      if (!/^form-data/i.test(disposition) || name === undefined) {
        throw malformed("a part has no Content-Disposition form-data name");
      }

      let bodyDone = false;
      async function* body(): AsyncGenerator<Uint8Array> {
        while (!bodyDone) {
          const at = indexOfBytes(buf, delimiter);
          if (at !== -1) {
            const chunk = buf.subarray(0, at);
            buf = buf.subarray(at + delimiter.length);
            bodyDone = true;
            if (chunk.length > 0) yield chunk;
            return;
          }
          // Keep a tail that could be the start of a delimiter split across reads.
          const safe = buf.length - (delimiter.length - 1);
          if (safe > 0) {
            const chunk = buf.subarray(0, safe);
            buf = buf.subarray(safe);
            yield chunk;
          }
          if (!(await fill())) throw malformed("unexpected end of part body");
        }
      }
      yield {
        name,
        filename: dispositionParam(disposition, "filename"),
        contentType: headers.get("content-type"),
        body: body(),
      };
      // The consumer may have stopped early (a refused file): skip the rest of the part.
      if (!bodyDone) for await (const _ of body());
    }
  } finally {
    reader.releaseLock();
  }
}
