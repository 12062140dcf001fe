import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import sharp from "sharp";
import { hasExif, readExifBlock, readExifOrientation } from "../src/core/formats/exif.ts";
import type { App } from "../src/http/env.ts";
import { describeWithS3 } from "./support/database.ts";
import { fixture, pngsuite } from "./support/fixtures.ts";

type ImageJson = {
  id: string;
  format: string;
  width: number;
  height: number;
  orientation: number;
  source_id: string | null;
  pipeline: unknown;
};

async function upload(app: App, name: string, bytes: Uint8Array<ArrayBuffer>): Promise<ImageJson> {
  const form = new FormData();
  form.append("file", new File([bytes], name));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: ImageJson[] }).images[0] as ImageJson;
}

function transform(app: App, id: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(`/v1/images/${id}/transform`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", ...headers },
  });
}

async function pixels(bytes: Uint8Array) {
  const { data, info } = await sharp(bytes)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Mean absolute difference per channel value, 0–255. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

const landscape = (n: number) => fixture(`exif-orientation/Landscape_${n}.jpg`);

describeWithS3("transform and render", (ctx) => {
  test("transform makes a derived image whose file is the pipeline's output", async () => {
    const { app } = ctx();
    const source = await upload(app, "alpha.png", await pngsuite("basn6a08.png"));
    const res = await transform(app, source.id, {
      operations: [{ op: "resize", width: 16, height: 8, fit: "fill" }, { op: "flop" }],
      format: "png",
    });
    expect(res.status).toBe(201);
    const derived = (await res.json()) as ImageJson;
    expect(res.headers.get("location")).toBe(`/v1/images/${derived.id}`);
    expect(derived).toMatchObject({ format: "png", width: 16, height: 8, source_id: source.id });
    expect(derived.pipeline).toMatchObject({
      format: "png",
      autoOrient: true,
      operations: [
        { op: "resize", width: 16, height: 8, fit: "fill", kernel: "lanczos3" },
        { op: "flop" },
      ],
    });
    const file = await app.request(`/v1/images/${derived.id}/file`);
    expect(file.headers.get("content-type")).toBe("image/png");
    const out = await pixels(new Uint8Array(await file.arrayBuffer()));
    expect([out.width, out.height]).toEqual([16, 8]);
  });

  test("convert is a transform with only a format", async () => {
    const { app } = ctx();
    // A 300×200 copy of the photo: the formats are the point, and AVIF takes seconds at 2 MP.
    const photo = new Uint8Array(
      await sharp(await landscape(1))
        .resize(300)
        .jpeg()
        .toBuffer(),
    );
    const source = await upload(app, "photo.jpg", photo);
    for (const format of ["webp", "png", "avif", "jpeg"] as const) {
      const res = await transform(app, source.id, { format });
      expect(res.status).toBe(201);
      const derived = (await res.json()) as ImageJson;
      expect(derived).toMatchObject({ format, width: 300, height: 200 });
      const bytes = new Uint8Array(
        await (await app.request(`/v1/images/${derived.id}/file`)).arrayBuffer(),
      );
      expect((await sharp(bytes).metadata()).format).toBe(format === "avif" ? "heif" : format);
    }
  });

  test("every bad parameter is a 422 that names it, its range and the value", async () => {
    const { app } = ctx();
    const source = await upload(app, "alpha.png", await pngsuite("basn6a08.png"));
    const cases: [unknown, string][] = [
      [
        { operations: [{ op: "resize", width: 0 }] },
        "Expected an integer between 1 and 16383 for width but received 0",
      ],
      [
        { operations: [{ op: "resize", width: 10, fit: "squash" }] },
        "Expected one of cover, contain, fill, inside, outside for fit",
      ],
      [
        { operations: [{ op: "sharpen" }] },
        "Expected op to be one of resize, crop, rotate, flip, flop, grayscale",
      ],
      [{ operations: [{ op: "resize" }] }, "Expected width or height (or both) for resize"],
      [{ quality: 101 }, "Expected an integer between 1 and 100 for quality but received 101"],
      [{ format: "gif" }, "Expected one of jpeg, png, webp, avif, auto for format"],
      [
        { operations: Array.from({ length: 11 }, () => ({ op: "flip" })) },
        "Expected at most 10 operations",
      ],
      [
        { operations: [{ op: "crop", left: 20, top: 0, width: 20, height: 5 }] },
        "Expected the crop box (left 20, top 0, 20×5) to lie inside the 32×32 image",
      ],
    ];
    for (const [body, message] of cases) {
      const res = await transform(app, source.id, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 422]);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as { detail: string }).detail).toContain(message);
    }
    const tooBig = await transform(app, source.id, {
      operations: [{ op: "resize", width: 16000, height: 16000 }],
    });
    expect(tooBig.status).toBe(422);
    expect(((await tooBig.json()) as { detail: string }).detail).toContain("MAX_PIXELS");
  });

  test("render: computed once, then served from the cache with a strong ETag; 304 on a match", async () => {
    const c = ctx();
    const source = await upload(c.app, "photo.jpg", await landscape(1));
    const url = `/v1/images/${source.id}/render?w=200&h=200&fit=cover&format=webp&q=70`;
    const first = await c.app.request(url);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-render-cache")).toBe("miss");
    expect(first.headers.get("content-type")).toBe("image/webp");
    expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // Shared caches key it by credential: another user never gets this user's rendering.
    expect(first.headers.get("vary")).toBe("Authorization, X-API-Key");
    const bytes = new Uint8Array(await first.arrayBuffer());
    const jobsBefore = c.processor.stats().completed;

    const second = await c.app.request(url);
    expect(second.headers.get("x-render-cache")).toBe("hit");
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
    expect(c.processor.stats().completed).toBe(jobsBefore); // no worker job for the hit
    const etag = second.headers.get("etag") as string;
    expect(etag).toBe(`"${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}"`);

    const cached = await c.app.request(url, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
    expect((await pixels(bytes)).width).toBe(200);
  });

  test("deleting an image deletes its cached renderings and their bytes", async () => {
    const c = ctx();
    const count = async () => {
      const [row] = await c.db.sql<{ renders: string; blobs: string }[]>`
        SELECT (SELECT count(*) FROM render_cache) AS renders, (SELECT count(*) FROM blobs) AS blobs`;
      return { renders: Number(row?.renders), blobs: Number(row?.blobs) };
    };
    const before = await count();
    const bytes = new Uint8Array(
      await sharp(await landscape(1))
        .resize(64)
        .png()
        .toBuffer(),
    );
    const source = await upload(c.app, "small.png", bytes);
    for (const w of [10, 20])
      expect((await c.app.request(`/v1/images/${source.id}/render?w=${w}`)).status).toBe(200);
    expect(await count()).toEqual({ renders: before.renders + 2, blobs: before.blobs + 3 });
    expect((await c.app.request(`/v1/images/${source.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await count()).toEqual(before);
    expect((await c.app.request(`/v1/images/${source.id}/render?w=10`)).status).toBe(404);
  });

  test("render format=auto follows Accept and says Vary: Accept (and the credential headers)", async () => {
    const { app } = ctx();
    const source = await upload(app, "photo.jpg", await landscape(1));
    const url = `/v1/images/${source.id}/render?w=64&format=auto`;
    for (const [accept, type] of [
      ["image/avif,image/webp,*/*", "image/avif"],
      ["image/webp,*/*", "image/webp"],
      ["*/*", "image/jpeg"],
    ]) {
      const res = await app.request(url, { headers: { Accept: accept as string } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type as string);
      expect(res.headers.get("vary")).toBe("Accept, Authorization, X-API-Key");
    }
  });

  test("the 8 EXIF orientations record and render upright, like orientation 1", async () => {
    const { app } = ctx();
    const renders: { data: Uint8Array; width: number; height: number }[] = [];
    for (let n = 1; n <= 8; n++) {
      const image = await upload(app, `Landscape_${n}.jpg`, await landscape(n));
      expect([n, image.orientation, image.width, image.height]).toEqual([n, n, 1800, 1200]);
      const res = await app.request(`/v1/images/${image.id}/render?w=180&format=png`);
      renders.push(await pixels(new Uint8Array(await res.arrayBuffer())));
    }
    const upright = renders[0] as { data: Uint8Array };
    for (const [i, r] of renders.entries()) {
      expect([i + 1, r.width, r.height]).toEqual([i + 1, 180, 120]);
      expect([i + 1, meanAbsDiff(r.data, upright.data) < 6]).toEqual([i + 1, true]);
    }
    const raw = await upload(app, "Landscape_6.jpg", await landscape(6));
    const unrotated = await transform(app, raw.id, { autoOrient: false, format: "png" });
    expect(await unrotated.json()).toMatchObject({ width: 1200, height: 1800 });
  });

  test("outputs carry no EXIF, not even from a JPEG with GPS EXIF", async () => {
    const { app } = ctx();
    const withGps = new Uint8Array(
      await sharp(await landscape(1))
        .resize(100)
        .withExif({ IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1" } })
        .jpeg()
        .toBuffer(),
    );
    expect(hasExif(withGps, "jpeg")).toBe(true);
    const source = await upload(app, "gps.jpg", withGps);
    for (const format of ["jpeg", "webp", "png"] as const) {
      const derived = (await (await transform(app, source.id, { format })).json()) as ImageJson;
      const bytes = new Uint8Array(
        await (await app.request(`/v1/images/${derived.id}/file`)).arrayBuffer(),
      );
      expect([format, hasExif(bytes, format)]).toEqual([format, false]);
      expect((await sharp(bytes).metadata()).exif).toBeUndefined();
    }
  });

  test("keepMetadata copies the EXIF block into JPEG, PNG and WebP, with the orientation reset", async () => {
    const { app } = ctx();
    const source = await upload(app, "Landscape_6.jpg", await landscape(6));
    const sourceExif = readExifBlock(await landscape(6), "jpeg");
    for (const format of ["jpeg", "png", "webp"] as const) {
      for (const quality of [80, 100]) {
        // quality 100 + webp: lossy VP8; the lossless variant goes through VP8L.
        const body = {
          operations: [{ op: "resize", width: 300 }],
          format,
          keepMetadata: true,
          quality,
          lossless: format === "webp" && quality === 100,
        };
        const res = await transform(app, source.id, body);
        expect([format, res.status]).toEqual([format, 201]);
        const derived = (await res.json()) as ImageJson;
        const bytes = new Uint8Array(
          await (await app.request(`/v1/images/${derived.id}/file`)).arrayBuffer(),
        );
        expect([format, hasExif(bytes, format), readExifOrientation(bytes, format)]).toEqual([
          format,
          true,
          1,
        ]);
        const meta = await sharp(bytes).metadata();
        expect([format, meta.width, meta.height, meta.orientation ?? 1]).toEqual([
          format,
          300,
          200,
          1,
        ]);
        expect(meta.exif).toBeDefined(); // sharp finds it too
        // The same block as the source's, bar the orientation value.
        expect([format, readExifBlock(bytes, format)?.length]).toEqual([
          format,
          sourceExif?.length,
        ]);
      }
    }
    const avif = await transform(app, source.id, { format: "avif", keepMetadata: true });
    expect(avif.status).toBe(422);
    expect(((await avif.json()) as { detail: string }).detail).toContain("keepMetadata");
  });

  test("every corrupt PngSuite file (x*.png) is refused on upload with a 4xx problem", async () => {
    const { app } = ctx();
    const corrupt = readdirSync(new URL("fixtures/pngsuite/png/", import.meta.url)).filter((f) =>
      f.startsWith("x"),
    );
    expect(corrupt.length).toBeGreaterThan(10);
    for (const name of corrupt) {
      const form = new FormData();
      form.append("file", new File([await pngsuite(name)], name));
      const res = await app.request("/v1/images", { method: "POST", body: form });
      expect([name, res.status >= 400 && res.status < 500]).toEqual([name, true]);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});
