import { describe, expect, test } from "bun:test";
import { multipartBoundary, parseMultipart } from "../../src/http/multipart.ts";
import { noise } from "../support/fixtures.ts";

function streamOf(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunkSize));
      at += chunkSize;
    },
  });
}

async function encode(form: FormData) {
  const req = new Request("http://x/", { method: "POST", body: form });
  return {
    boundary: multipartBoundary(req.headers.get("content-type") ?? undefined) as string,
    bytes: new Uint8Array(await req.arrayBuffer()),
  };
}

async function collect(stream: ReadableStream<Uint8Array>, boundary: string) {
  const parts: { name: string; filename?: string; bytes: Uint8Array }[] = [];
  for await (const part of parseMultipart(stream, boundary)) {
    const chunks: Uint8Array[] = [];
    for await (const c of part.body) chunks.push(c);
    parts.push({
      name: part.name,
      filename: part.filename,
      bytes: new Uint8Array(Buffer.concat(chunks)),
    });
  }
  return parts;
}

describe("parseMultipart", () => {
  test("yields every part byte-exact whatever the chunking, even across boundary-like bytes", async () => {
    const tricky = new TextEncoder().encode("\r\n--not-the-boundary\r\n\r\n--");
    const a = new Uint8Array([...noise(3000), ...tricky, ...noise(500)]);
    const form = new FormData();
    form.append("note", "hello");
    form.append("file", new File([a], "a.bin"));
    form.append("file", new File([new Uint8Array(0)], "empty.bin"));
    form.append("file", new File([tricky], "we ird (1).bin"));
    const { boundary, bytes } = await encode(form);
    for (const size of [1, 2, 7, 64, 1000, 1 << 20]) {
      const parts = await collect(streamOf(bytes, size), boundary);
      expect(parts.map((p) => [p.name, p.filename, p.bytes.length])).toEqual([
        ["note", undefined, 5],
        ["file", "a.bin", a.length],
        ["file", "empty.bin", 0],
        ["file", "we ird (1).bin", tricky.length],
      ]);
      expect(parts[1]?.bytes).toEqual(a);
      expect(parts[3]?.bytes).toEqual(tricky);
    }
  });

  test("skips the rest of a part the consumer stopped reading", async () => {
    const form = new FormData();
    form.append("file", new File([noise(100_000)], "big.bin"));
    form.append("file", new File(["second"], "b.txt"));
    const { boundary, bytes } = await encode(form);
    const seen: string[] = [];
    for await (const part of parseMultipart(streamOf(bytes, 4096), boundary)) {
      for await (const _ of part.body) break;
      seen.push(part.filename ?? "");
    }
    expect(seen).toEqual(["big.bin", "b.txt"]);
  });

  test("a truncated body is a 400 problem, not a hang or a crash", async () => {
    const form = new FormData();
    form.append("file", new File(["abcdef"], "a.txt"));
    const { boundary, bytes } = await encode(form);
    const cut = streamOf(bytes.subarray(0, bytes.length - 10), 16);
    await expect(collect(cut, boundary)).rejects.toMatchObject({ status: 400 });
  });

  test("part headers over the limit are a 413 problem naming it, in one chunk or trickling in", async () => {
    const bytes = new TextEncoder().encode(
      `--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
        `X-Padding: ${"p".repeat(40 * 1024)}\r\n\r\nPNG\r\n--b--\r\n`,
    );
    // Counted from the end of the boundary, its line break included.
    const headerBytes = bytes.length - "\r\n\r\nPNG\r\n--b--\r\n".length - "--b".length;
    await expect(collect(streamOf(bytes, bytes.length), "b")).rejects.toMatchObject({
      status: 413,
      detail: `Expected the headers of a multipart part to take at most 16384 bytes but they take ${headerBytes}`,
    });
    await expect(collect(streamOf(bytes, 1000), "b")).rejects.toMatchObject({
      status: 413,
      detail: expect.stringMatching(/at most 16384 bytes but they take over 16\d{3}$/),
    });
    // Just under the limit passes.
    const fits = new TextEncoder().encode(
      `--b\r\nContent-Disposition: form-data; name="f"\r\nX-P: ${"p".repeat(16_000)}\r\n\r\nok\r\n--b--\r\n`,
    );
    const parts = await collect(streamOf(fits, fits.length), "b");
    expect(parts.map((p) => new TextDecoder().decode(p.bytes))).toEqual(["ok"]);
  });

  test("reads the boundary only from multipart/form-data types", () => {
    expect(multipartBoundary("multipart/form-data; boundary=abc")).toBe("abc");
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b"')).toBe("a b");
    expect(multipartBoundary("application/json")).toBeNull();
    expect(multipartBoundary("multipart/form-data")).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
  });
});
