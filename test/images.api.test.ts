import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase, describeWithS3 } from "./support/database.ts";
import { fixture, makePng, noisePng, pngsuite } from "./support/fixtures.ts";

type Upload = { name: string; bytes: Uint8Array<ArrayBuffer>; type?: string };

type ImageJson = {
  id: string;
  format: string;
  width: number;
  height: number;
  sha256: string;
  byte_size: number;
};
type UploadJson = {
  images: ImageJson[];
  errors: { index: number; filename: string; status: number; detail: string }[];
};

function upload(app: App, files: Upload[]) {
  const form = new FormData();
  for (const f of files) form.append("file", new File([f.bytes], f.name, { type: f.type ?? "" }));
  return app.request("/v1/images", { method: "POST", body: form });
}

async function uploadOne(app: App, file: Upload): Promise<ImageJson> {
  const res = await upload(app, [file]);
  expect(res.status).toBe(201);
  return ((await res.json()) as UploadJson).images[0] as ImageJson;
}

const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
const png = await pngsuite("basn6a08.png");
const webp = await fixture("generated/landscape-240.webp");
const webpLossless = await fixture("generated/landscape-120-lossless.webp");

async function counts(ctx: { db: { sql: import("../src/adapters/postgres/database.ts").Sql } }) {
  const [row] = await ctx.db.sql<{ images: string; blobs: string }[]>`
    SELECT (SELECT count(*) FROM images) AS images, (SELECT count(*) FROM blobs) AS blobs`;
  return { images: Number(row?.images), blobs: Number(row?.blobs) };
}

describeWithS3("images API", (ctx) => {
  test("Range on /file: 206 with exactly those bytes (across chunk boundaries), 416 past the end", async () => {
    const { app } = ctx();
    const MiB = 1024 * 1024;
    // Bigger than one Postgres chunk (1 MiB), so ranges cross from one to the next.
    const big = noisePng(1.5 * MiB);
    const image = await uploadOne(app, { name: "big.png", bytes: big });
    const file = `/v1/images/${image.id}/file`;
    const size = big.length;
    for (const [range, start, end] of [
      ["bytes=0-99", 0, 99],
      [`bytes=${MiB - 10}-${MiB + 9}`, MiB - 10, MiB + 9],
      [`bytes=${size - 5}-`, size - 5, size - 1],
      ["bytes=-7", size - 7, size - 1],
      [`bytes=${size - 3}-${size + 1000}`, size - 3, size - 1],
    ] as const) {
      const res = await app.request(file, { headers: { Range: range } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(big.subarray(start, end + 1));
    }
    const past = await app.request(file, { headers: { Range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(past.headers.get("content-type")).toBe("application/problem+json");
    // Several ranges, or an If-Range that is not the current ETag: the whole file.
    const wholeAnyway: Record<string, string>[] = [
      { Range: "bytes=0-1,5-6" },
      { Range: "bytes=0-99", "If-Range": '"stale"' },
    ];
    for (const headers of wholeAnyway) {
      const whole = await app.request(file, { headers });
      expect(whole.status).toBe(200);
      expect(whole.headers.get("accept-ranges")).toBe("bytes");
      expect((await whole.arrayBuffer()).byteLength).toBe(size);
    }
    const current = await app.request(file, {
      headers: { Range: "bytes=10-19", "If-Range": `"${image.sha256}"` },
    });
    expect(current.status).toBe(206);
  });

  test("with the bytes in S3, Postgres holds none: every blob is in the bucket", async () => {
    const { db, objects } = ctx();
    const [row] = await db.sql<{ chunks: number; outside: number; blobs: number }[]>`
      SELECT (SELECT count(*) FROM blob_chunks)::int AS chunks,
             (SELECT count(*) FROM blobs WHERE location <> 'object')::int AS outside,
             (SELECT count(*) FROM blobs)::int AS blobs`;
    // The same query on the Postgres runs: every blob there.
    if (!objects) return expect(row?.outside).toBe(row?.blobs);
    expect({ chunks: row?.chunks, outside: row?.outside }).toEqual({ chunks: 0, outside: 0 });
    for (const { sha256 } of await db.sql<{ sha256: string }[]>`SELECT sha256 FROM blobs`) {
      expect(await objects.head(`blobs/${sha256}`)).not.toBeNull();
    }
  });

  test("upload → get → file returns the same bytes, with metadata from the header", async () => {
    const { app } = ctx();
    for (const [file, format, width, height] of [
      [{ name: "photo.jpg", bytes: jpeg }, "jpeg", 1800, 1200],
      [{ name: "alpha.png", bytes: png }, "png", 32, 32],
      [{ name: "lossy.webp", bytes: webp }, "webp", 240, 160],
      [{ name: "lossless.webp", bytes: webpLossless }, "webp", 120, 80],
    ] as const) {
      const image = await uploadOne(app, file);
      expect(image).toMatchObject({ format, width, height, byte_size: file.bytes.length });
      expect(image.sha256).toBe(new Bun.CryptoHasher("sha256").update(file.bytes).digest("hex"));

      const meta = await app.request(`/v1/images/${image.id}`);
      expect(meta.status).toBe(200);
      expect(await meta.json()).toEqual(image);

      const res = await app.request(`/v1/images/${image.id}/file`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(`image/${format}`);
      expect(res.headers.get("etag")).toBe(`"${image.sha256}"`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.bytes);
    }
  });

  test("format comes from the content, not the name or declared type", async () => {
    const image = await uploadOne(ctx().app, {
      name: "looks-like.jpg",
      bytes: png,
      type: "image/jpeg",
    });
    expect(image.format).toBe("png");
  });

  test("a batch of 10 mixed files answers 207: 3 stored, one error per bad file, nothing else left", async () => {
    const c = ctx();
    const before = await counts(c);
    const truncatedPng = png.slice(0, Math.floor(png.length / 2));
    const badCrc = await pngsuite("xcsn0g01.png");
    const files: Upload[] = [
      { name: "ok.jpg", bytes: jpeg },
      { name: "notes.jpg", bytes: new TextEncoder().encode("just some text, honest") },
      { name: "ok.png", bytes: png },
      { name: "half.png", bytes: truncatedPng },
      { name: "empty.webp", bytes: new Uint8Array(0) },
      { name: "ok.webp", bytes: webp },
      { name: "bad-crc.png", bytes: badCrc },
      { name: "cut.jpg", bytes: jpeg.slice(0, 20_000) },
      {
        name: "huge.png",
        bytes: makePng(4, 4, () => [0, 0, 0, 255], { claimWidth: 100_000, claimHeight: 100_000 }),
      },
      { name: "riff.webp", bytes: webp.slice(0, 100) },
    ];
    const res = await upload(c.app, files);
    expect(res.status).toBe(207);
    const body = (await res.json()) as UploadJson;
    expect(body.images.map((i) => i.format)).toEqual(["jpeg", "png", "webp"]);
    expect(body.errors.map((e) => [e.index, e.filename, e.status])).toEqual([
      [1, "notes.jpg", 415],
      [3, "half.png", 422],
      [4, "empty.webp", 422],
      [6, "bad-crc.png", 422],
      [7, "cut.jpg", 422],
      [8, "huge.png", 422],
      [9, "riff.webp", 422],
    ]);
    for (const e of body.errors) expect(e.detail.length).toBeGreaterThan(5);
    const after = await counts(c);
    expect(after.images - before.images).toBe(3);
    expect(after.blobs - before.blobs).toBeLessThanOrEqual(3);
  });

  test("a PNG claiming 100 000 × 100 000 pixels is refused from its header, in milliseconds", async () => {
    const liar = makePng(16, 16, () => [9, 9, 9, 255], {
      claimWidth: 100_000,
      claimHeight: 100_000,
    });
    const started = performance.now();
    const res = await upload(ctx().app, [{ name: "liar.png", bytes: liar }]);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as { detail: string; images: unknown[]; errors: unknown[] };
    expect(body.detail).toContain("100000×100000");
    expect(body.detail).toContain("MAX_PIXELS");
    expect(body.images).toEqual([]);
    expect(elapsed).toBeLessThan(1000);
  });

  test("when nothing is stored the answer is the refusal as a problem, with the per-file errors", async () => {
    const res = await upload(ctx().app, [
      { name: "a.txt", bytes: new TextEncoder().encode("hello") },
    ]);
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({
      status: 415,
      images: [],
      errors: [{ index: 0, status: 415 }],
    });
  });

  test("identical bytes are stored once; each upload still gets its own record", async () => {
    const c = ctx();
    const unique = makePng(3, 3, (x, y) => [x * 80, y * 80, 7, 255]);
    const before = await counts(c);
    const a = await uploadOne(c.app, { name: "a.png", bytes: unique });
    const b = await uploadOne(c.app, { name: "b.png", bytes: unique });
    expect(a.id).not.toBe(b.id);
    expect(a.sha256).toBe(b.sha256);
    const after = await counts(c);
    expect(after.images - before.images).toBe(2);
    expect(after.blobs - before.blobs).toBe(1);

    // The blob stays while one record uses it, and goes with the last.
    expect((await c.app.request(`/v1/images/${a.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await c.app.request(`/v1/images/${a.id}`)).status).toBe(404);
    expect(
      new Uint8Array(await (await c.app.request(`/v1/images/${b.id}/file`)).arrayBuffer()),
    ).toEqual(unique);
    expect((await c.app.request(`/v1/images/${b.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await counts(c)).toEqual(before);
    expect((await c.app.request(`/v1/images/${b.id}`, { method: "DELETE" })).status).toBe(404);
  });

  test("If-None-Match with the ETag gives 304", async () => {
    const { app } = ctx();
    const image = await uploadOne(app, { name: "e.png", bytes: png });
    const res = await app.request(`/v1/images/${image.id}/file`, {
      headers: { "If-None-Match": `W/"nope", "${image.sha256}"` },
    });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(`"${image.sha256}"`);
    const other = await app.request(`/v1/images/${image.id}/file`, {
      headers: { "If-None-Match": '"nope"' },
    });
    expect(other.status).toBe(200);
  });

  test("listing is newest first, paginated by cursor, each page {items, next_cursor}", async () => {
    const { app } = ctx();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await uploadOne(app, { name: `p${i}.png`, bytes: makePng(2, 2, () => [i, i, i, 255]) }))
          .id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : "limit=2";
      const res = await app.request(`/v1/images?${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    const newestFirst = [...ids].reverse();
    expect(seen.slice(0, 5)).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test("bad parameters answer 422 problems that name the parameter and its range", async () => {
    const { app } = ctx();
    const res = await app.request("/v1/images?limit=0");
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as {
      errors: { path: string; message: string }[];
      request_id: string;
    };
    expect(body.errors).toEqual([
      {
        path: "query.limit",
        message: 'Expected an integer between 1 and 100 for limit but received "0"',
      },
    ]);
    expect(body.request_id).toBe(res.headers.get("x-request-id") as string);

    const malformed = await app.request("/v1/images/not-a-uuid");
    expect(malformed.status).toBe(422);
    expect(((await malformed.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe(
      "param.id",
    );
  });

  test("unknown ids, routes and methods answer 404 and 405 problems", async () => {
    const { app } = ctx();
    const missing = await app.request("/v1/images/019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b/file");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect((await app.request("/v1/nothing-here")).status).toBe(404);
    const wrong = await app.request("/v1/images", { method: "PUT" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toContain("POST");
    expect(await wrong.json()).toMatchObject({ status: 405, title: "Method not allowed" });
  });

  test("a body that is not multipart, or has no file part, is a 4xx problem", async () => {
    const { app } = ctx();
    const json = await app.request("/v1/images", {
      method: "POST",
      body: "{}",
      headers: { "Content-Type": "application/json" },
    });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append("note", "no files here");
    const empty = await app.request("/v1/images", { method: "POST", body: form });
    expect(empty.status).toBe(422);
    expect(await empty.json()).toMatchObject({ errors: [{ path: "body.file" }] });
    const broken = await app.request("/v1/images", {
      method: "POST",
      body: '--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
      headers: { "Content-Type": "multipart/form-data; boundary=xyz" },
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ title: "Bad request" });
  });

  test("every request is logged as JSON with its request id", async () => {
    const c = ctx();
    const res = await c.app.request("/healthz", { headers: { "X-Request-Id": "trace-me-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-me-123");
    const line = c.logs.map((l) => JSON.parse(l)).find((l) => l.request_id === "trace-me-123");
    expect(line).toMatchObject({
      level: "info",
      msg: "request",
      method: "GET",
      path: "/healthz",
      status: 200,
    });
  });
});

describeEachDatabase(
  "upload limits",
  (ctx) => {
    test("a file over MAX_UPLOAD_BYTES is refused (413) and the rest of the batch still lands", async () => {
      const big = makePng(64, 64, (x, y) => [x, y, x ^ y, 255], { level: 0 });
      const res = await upload(ctx().app, [
        { name: "big.png", bytes: big },
        { name: "small.png", bytes: png },
      ]);
      expect(res.status).toBe(207);
      const body = (await res.json()) as UploadJson;
      expect(body.errors).toMatchObject([{ index: 0, status: 413 }]);
      expect(body.errors[0]?.detail).toContain("MAX_UPLOAD_BYTES");
      expect(body.images).toHaveLength(1);
    });

    test("files past MAX_BATCH_FILES are refused, not stored", async () => {
      const res = await upload(ctx().app, [
        { name: "1.png", bytes: png },
        { name: "2.png", bytes: png },
        { name: "3.png", bytes: png },
      ]);
      expect(res.status).toBe(207);
      const body = (await res.json()) as UploadJson;
      expect(body.images).toHaveLength(2);
      expect(body.errors).toMatchObject([{ index: 2, status: 413 }]);
      expect(body.errors[0]?.detail).toContain("MAX_BATCH_FILES");
    });

    test("a file over MAX_PIXELS is refused from its header", async () => {
      const wide = makePng(2, 2, () => [1, 2, 3, 255], { claimWidth: 1001, claimHeight: 1000 });
      const res = await upload(ctx().app, [{ name: "wide.png", bytes: wide }]);
      expect(res.status).toBe(422);
      expect(((await res.json()) as { detail: string }).detail).toContain(
        "1001×1000 = 1001000 pixels",
      );
    });
  },
  { maxUploadBytes: 10_000, maxBatchFiles: 2, maxPixels: 1_000_000 },
);
