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
 * `response`, with a streamed body of declared length up to MAX_BUFFERED_BODY_BYTES read in
 * full so that Bun keeps its Content-Length; any other response as it is.
 *
 * @example
 * fetch: async (request) => keepContentLength(await app.fetch(request)),
 */
export async function keepContentLength(response: Response): Promise<Response> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (!(response.body instanceof ReadableStream) || !(declared <= MAX_BUFFERED_BODY_BYTES)) {
    return response;
  }
  return new Response(await response.arrayBuffer(), response);
}
