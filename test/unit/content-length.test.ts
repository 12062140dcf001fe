import { expect, test } from "bun:test";
import {
  contentLengthKeeper,
  MAX_BUFFERED_BODY_BYTES,
} from "../../src/adapters/bun/content-length.ts";

/** A body of `length` zero bytes, streamed a MiB at a time with a pause, as the blob store does. */
function slowStream(length: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream(
    {
      async pull(controller) {
        await Bun.sleep(1);
        if (sent >= length) return controller.close();
        const chunk = new Uint8Array(Math.min(1024 * 1024, length - sent));
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

test("Bun.serve sends the declared Content-Length of a streamed body up to the bound, and streams a larger one chunked", async () => {
  const keepContentLength = contentLengthKeeper();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) => {
      const length = Number(new URL(request.url).searchParams.get("length"));
      return keepContentLength(
        new Response(slowStream(length), { headers: { "Content-Length": String(length) } }),
      );
    },
  });
  try {
    const small = await fetch(`${server.url}?length=${3 * 1024 * 1024 + 5}`);
    expect(small.headers.get("content-length")).toBe(String(3 * 1024 * 1024 + 5));
    expect((await small.arrayBuffer()).byteLength).toBe(3 * 1024 * 1024 + 5);

    const large = await fetch(`${server.url}?length=${MAX_BUFFERED_BODY_BYTES + 1}`);
    expect(large.headers.get("content-length")).toBeNull();
    expect(large.headers.get("transfer-encoding")).toBe("chunked");
    expect((await large.arrayBuffer()).byteLength).toBe(MAX_BUFFERED_BODY_BYTES + 1);
  } finally {
    await server.stop(true);
  }
});

test("bodies read at once stay within the total: past it a response is passed on streamed", async () => {
  const keep = contentLengthKeeper({ perBody: 4 * 1024 * 1024, total: 5 * 1024 * 1024 });
  const response = (length: number) =>
    new Response(slowStream(length), { headers: { "Content-Length": String(length) } });
  const [first, second] = [response(3 * 1024 * 1024), response(3 * 1024 * 1024)];
  const [kept, passed] = await Promise.all([keep(first), keep(second)]);
  // The first is read into memory (a new response); the second would pass the total, so it is
  // passed on as it came, still a stream.
  expect(kept).not.toBe(first);
  expect(passed).toBe(second);
  expect((await kept.arrayBuffer()).byteLength).toBe(3 * 1024 * 1024);
  expect((await passed.arrayBuffer()).byteLength).toBe(3 * 1024 * 1024);
  // Once read, the budget is free again.
  const third = response(3 * 1024 * 1024);
  expect(await keep(third)).not.toBe(third);
});
