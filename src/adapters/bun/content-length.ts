/**
 * Bun.serve drops the Content-Length a handler sets on a streamed body and sends it chunked
 * (oven-sh/bun#10507, open in Bun 1.4), so a browser downloading an original shows no size or
 * progress. A streamed body whose length the app declared and that is at most this large is
 * read into memory first, which Bun sends with its length; a larger one stays streamed, chunked.
 * It covers an original at the default MAX_UPLOAD_BYTES (25 MiB) while bounding what one
 * response holds.
 */
export const MAX_BUFFERED_BODY_BYTES = 32 * 1024 * 1024;

/**
 * What the bodies being read into memory may add up to at once: past it a response stays
 * streamed (chunked), so many parallel downloads of large originals do not each hold a copy.
 */
export const MAX_BUFFERED_TOTAL_BYTES = 4 * MAX_BUFFERED_BODY_BYTES;

/**
 * A function giving `response` with a streamed body of declared length up to `perBody` read in
 * full, so that Bun keeps its Content-Length, while the bodies it holds at once stay within
 * `total`; any other response as it is. One per server.
 *
 * @example
 * const keepContentLength = contentLengthKeeper();
 * fetch: async (request) => keepContentLength(await app.fetch(request)),
 */
export function contentLengthKeeper(
  limits = { perBody: MAX_BUFFERED_BODY_BYTES, total: MAX_BUFFERED_TOTAL_BYTES },
) {
  let buffered = 0;
  return async function keepContentLength(response: Response): Promise<Response> {
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (
      !(response.body instanceof ReadableStream) ||
      !(declared <= limits.perBody) ||
      buffered + declared > limits.total
    ) {
      return response;
    }
    buffered += declared;
    try {
      return new Response(await response.arrayBuffer(), response);
    } finally {
      buffered -= declared;
    }
  };
}
