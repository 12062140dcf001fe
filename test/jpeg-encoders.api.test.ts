import { expect, test } from "bun:test";
import sharp from "sharp";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase } from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";

type ImageJson = { id: string; format: string; width: number; height: number; pipeline: unknown };

async function upload(app: App, name: string, bytes: Uint8Array<ArrayBuffer>): Promise<ImageJson> {
  const form = new FormData();
  form.append("file", new File([bytes], name));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: ImageJson[] }).images[0] as ImageJson;
}

function transform(app: App, id: string, body: unknown) {
  return app.request(`/v1/images/${id}/transform`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
}

const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

describeEachDatabase("JPEG encoder choice (mozjpeg)", (ctx) => {
  test("transform with mozjpeg: true stores a smaller JPEG and records the option in its pipeline", async () => {
    const { app } = ctx();
    const source = await upload(
      app,
      "photo.jpg",
      await fixture("exif-orientation/Landscape_1.jpg"),
    );
    const sizes: number[] = [];
    for (const mozjpeg of [false, true]) {
      const res = await transform(app, source.id, {
        operations: [{ op: "resize", width: 1000 }],
        format: "jpeg",
        quality: 80,
        mozjpeg,
      });
      expect(res.status).toBe(201);
      const derived = (await res.json()) as ImageJson;
      expect(derived).toMatchObject({ format: "jpeg", width: 1000, height: 667 });
      expect(derived.pipeline).toMatchObject({ format: "jpeg", quality: 80, mozjpeg });
      const bytes = await bytesOf(await app.request(`/v1/images/${derived.id}/file`));
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 1000, 667]);
      sizes.push(bytes.length);
    }
    const [fast, small] = sizes as [number, number];
    expect(small).toBeLessThan(0.9 * fast);
  });

  test("render: mozjpeg=true is its own cache entry, with its own bytes and ETag", async () => {
    const c = ctx();
    const source = await upload(
      c.app,
      "photo.jpg",
      await fixture("exif-orientation/Landscape_1.jpg"),
    );
    const url = `/v1/images/${source.id}/render?w=400&format=jpeg&q=80`;
    const fast = await c.app.request(url);
    const small = await c.app.request(`${url}&mozjpeg=true`);
    for (const res of [fast, small]) {
      expect([res.status, res.headers.get("x-render-cache")]).toEqual([200, "miss"]);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
    }
    const [fastBytes, smallBytes] = [await bytesOf(fast), await bytesOf(small)];
    expect(small.headers.get("etag")).not.toBe(fast.headers.get("etag"));
    expect(smallBytes.length).toBeLessThan(0.9 * fastBytes.length);
    expect((await sharp(smallBytes).metadata()).width).toBe(400);

    const again = await c.app.request(`${url}&mozjpeg=1`);
    expect(again.headers.get("x-render-cache")).toBe("hit");
    expect(again.headers.get("etag")).toBe(small.headers.get("etag"));
    expect(await bytesOf(again)).toEqual(smallBytes);
  });

  test("a bad mozjpeg is a 422 that names it and the value", async () => {
    const { app } = ctx();
    const source = await upload(
      app,
      "photo.jpg",
      await fixture("exif-orientation/Landscape_1.jpg"),
    );
    const body = await transform(app, source.id, { format: "jpeg", mozjpeg: "yes" });
    expect(body.status).toBe(422);
    expect(body.headers.get("content-type")).toBe("application/problem+json");
    expect(((await body.json()) as { errors: unknown }).errors).toEqual([
      { path: "json.mozjpeg", message: 'Expected true or false for mozjpeg but received "yes"' },
    ]);
    const query = await app.request(`/v1/images/${source.id}/render?w=10&mozjpeg=maybe`);
    expect(query.status).toBe(422);
    expect(((await query.json()) as { errors: unknown }).errors).toEqual([
      { path: "query.mozjpeg", message: 'Expected true or false for mozjpeg but received "maybe"' },
    ]);
  });
});
