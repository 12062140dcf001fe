import { expect, test } from "bun:test";
import sharp from "sharp";
import type { App } from "../src/http/env.ts";
import { decodeCocoCounts, expandCocoCounts } from "./support/coco-rle.ts";
import { describeEachDatabase } from "./support/database.ts";
import { fixture, makePng } from "./support/fixtures.ts";

type Region = {
  label: number;
  area: number;
  bbox: { left: number; top: number; width: number; height: number };
  centroid: { x: number; y: number };
  mean_colour: { r: number; g: number; b: number; hex: string };
};

type Segmentation = {
  id: string;
  image_id: string;
  method: string;
  params: Record<string, unknown>;
  thresholds: number[];
  width: number;
  height: number;
  region_count: number;
  regions: Region[];
};

type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] };

async function upload(app: App, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const form = new FormData();
  form.append("file", new File([bytes], "s.png"));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

function segment(app: App, id: string, body: unknown) {
  return app.request(`/v1/images/${id}/segmentations`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
}

async function created(app: App, id: string, body: unknown): Promise<Segmentation> {
  const res = await segment(app, id, body);
  expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 201]);
  return (await res.json()) as Segmentation;
}

/** A mask route's PNG, decoded by sharp: its raw samples and metadata. */
async function maskPng(app: App, path: string) {
  const res = await app.request(path);
  expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 200, "image/png"]);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const meta = await sharp(bytes).metadata();
  return { meta, bytes };
}

const grey = async (bytes: Uint8Array) =>
  new Uint8Array(await sharp(bytes).extractChannel(0).raw().toBuffer());

const rgba = async (bytes: Uint8Array) =>
  new Uint8Array(await sharp(bytes).ensureAlpha().raw().toBuffer());

const inA = (x: number, y: number) => x >= 4 && x < 14 && y >= 5 && y < 15; // 10×10
const inB = (x: number, y: number) => x >= 25 && x < 37 && y >= 10 && y < 26; // 12×16
const at = (x: number, y: number) => y * 40 + x;

// 40×30: dark background (20), two bright squares (220) that do not touch.
const squares = makePng(40, 30, (x, y) => {
  const v = inA(x, y) || inB(x, y) ? 220 : 20;
  return [v, v, v, 255];
});
// The same with a third level: square A mid grey (120).
const threeLevels = makePng(40, 30, (x, y) => {
  const v = inB(x, y) ? 220 : inA(x, y) ? 120 : 20;
  return [v, v, v, 255];
});

const SQUARE_B: Region = {
  label: 1,
  area: 192,
  bbox: { left: 25, top: 10, width: 12, height: 16 },
  centroid: { x: 30.5, y: 17.5 },
  mean_colour: { r: 220, g: 220, b: 220, hex: "#dcdcdc" },
};
const SQUARE_A: Region = {
  label: 2,
  area: 100,
  bbox: { left: 4, top: 5, width: 10, height: 10 },
  centroid: { x: 8.5, y: 9.5 },
  mean_colour: { r: 220, g: 220, b: 220, hex: "#dcdcdc" },
};

describeEachDatabase("segmentation API", (ctx) => {
  test("every method: 201 with its thresholds and regions, largest first", async () => {
    const { app } = ctx();
    const id = await upload(app, squares);
    const both = [SQUARE_B, SQUARE_A];
    const cases: [unknown, number[], Region[]][] = [
      [{ method: "threshold", threshold: 128 }, [128], both],
      // Two levels: every threshold from 20 to 219 splits them alike; the first wins (skimage).
      [{ method: "otsu" }, [20], both],
      [
        { method: "otsu", invert: true, connectivity: 4 },
        [20],
        [
          {
            ...SQUARE_B,
            area: 908,
            bbox: { left: 0, top: 0, width: 40, height: 30 },
            centroid: { x: 18.39, y: 14.42 },
            mean_colour: { r: 20, g: 20, b: 20, hex: "#141414" },
          },
        ],
      ],
      // A negative offset keeps the flat background, equal to its local level, out.
      [{ method: "adaptive", mode: "mean", blockSize: 15, offset: -1 }, [], both],
      [{ method: "adaptive", mode: "gaussian", blockSize: 15, offset: -1 }, [], both],
      [{ method: "region-growing", seeds: [{ x: 30, y: 15 }] }, [], [SQUARE_B]],
      [
        {
          method: "region-growing",
          seeds: [
            { x: 30, y: 15 },
            { x: 5, y: 5 },
          ],
          metric: "rgb",
        },
        [],
        both,
      ],
      [{ method: "otsu", minArea: 150 }, [20], [SQUARE_B]],
      // The background with the squares as holes, filled: the whole image.
      [
        { method: "otsu", invert: true, fillHoles: true },
        [20],
        [
          {
            label: 1,
            area: 1200,
            bbox: { left: 0, top: 0, width: 40, height: 30 },
            centroid: { x: 19.5, y: 14.5 },
            mean_colour: { r: 68.67, g: 68.67, b: 68.67, hex: "#454545" },
          },
        ],
      ],
    ];
    for (const [body, thresholds, regions] of cases) {
      const seg = await created(app, id, body);
      expect([body, seg.thresholds, seg.region_count, seg.regions]).toEqual([
        body,
        thresholds,
        regions.length,
        regions,
      ]);
      expect(seg).toMatchObject({ image_id: id, width: 40, height: 30 });
    }

    // Unseeded region growing: the background and the two squares.
    const grown = await created(app, id, { method: "region-growing", maxRegions: 8 });
    expect(grown.regions.map((r) => [r.label, r.area, r.mean_colour.hex])).toEqual([
      [1, 908, "#141414"],
      [2, 192, "#dcdcdc"],
      [3, 100, "#dcdcdc"],
    ]);
    expect(grown.params).toEqual({
      method: "region-growing",
      tolerance: 10,
      metric: "lab",
      maxRegions: 8,
      minArea: 0,
      fillHoles: false,
      downscale: 1,
      connectivity: 8,
    });

    // Multi-Otsu on three levels: one class each, labelled by size.
    const three = await upload(app, threeLevels);
    const multi = await created(app, three, { method: "multi-otsu", classes: 3 });
    expect(multi.thresholds).toEqual([20, 120]);
    expect(multi.regions.map((r) => [r.area, r.mean_colour.r])).toEqual([
      [908, 20],
      [192, 220],
      [100, 120],
    ]);

    // Halved: the 2×2 blocks across A's top and bottom rows and B's side columns average to 120,
    // which Otsu (threshold 20 again) counts in; scaled back up, each block is 2×2 pixels.
    const coarse = await created(app, id, { method: "otsu", downscale: 2 });
    expect([coarse.width, coarse.height, coarse.thresholds, coarse.region_count]).toEqual([
      40,
      30,
      [20],
      2,
    ]);
    expect(coarse.regions.map((r) => [r.area, r.bbox])).toEqual([
      [224, { left: 24, top: 10, width: 14, height: 16 }],
      [120, { left: 4, top: 4, width: 10, height: 12 }],
    ]);
  });

  test("get one, list for the image (newest first, paged), delete: 204 then 404", async () => {
    const { app } = ctx();
    const id = await upload(app, squares);
    const first = await created(app, id, { method: "otsu" });
    const second = await created(app, id, { method: "threshold", threshold: 100 });
    const res = await app.request(`/v1/segmentations/${first.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(first);

    const page1 = (await (await app.request(`/v1/images/${id}/segmentations?limit=1`)).json()) as {
      items: Segmentation[];
      next_cursor: string | null;
    };
    expect([page1.items.map((s) => s.id), page1.next_cursor]).toEqual([[second.id], second.id]);
    const page2 = (await (
      await app.request(`/v1/images/${id}/segmentations?limit=1&cursor=${page1.next_cursor}`)
    ).json()) as { items: Segmentation[]; next_cursor: string | null };
    expect([page2.items.map((s) => s.id), page2.next_cursor]).toEqual([[first.id], null]);

    expect((await app.request(`/v1/segmentations/${first.id}`, { method: "DELETE" })).status).toBe(
      204,
    );
    for (const [path, method] of [
      [`/v1/segmentations/${first.id}`, "GET"],
      [`/v1/segmentations/${first.id}/mask`, "GET"],
      [`/v1/segmentations/${first.id}`, "DELETE"],
    ] as const) {
      expect([path, method, (await app.request(path, { method })).status]).toEqual([
        path,
        method,
        404,
      ]);
    }
    const list = (await (await app.request(`/v1/images/${id}/segmentations`)).json()) as {
      items: Segmentation[];
    };
    expect(list.items.map((s) => s.id)).toEqual([second.id]);
  });

  test("mask pictures: binary and labels exact, overlay tints and outlines, cutout clears", async () => {
    const { app } = ctx();
    const id = await upload(app, squares);
    const seg = await created(app, id, { method: "threshold", threshold: 128 });
    const base = `/v1/segmentations/${seg.id}/mask`;

    const binary = await maskPng(app, `${base}?kind=binary`);
    expect([binary.meta.channels, binary.meta.depth]).toEqual([1, "uchar"]);
    const mask = await grey(binary.bytes);
    mask.forEach((v, p) => {
      if (v !== (inA(p % 40, Math.floor(p / 40)) || inB(p % 40, Math.floor(p / 40)) ? 255 : 0)) {
        throw new Error(`binary mask wrong at ${p}: ${v}`);
      }
    });

    const labels = await grey((await maskPng(app, `${base}?kind=labels`)).bytes);
    expect([labels[at(30, 15)], labels[at(5, 5)], labels[at(0, 0)]]).toEqual([1, 2, 0]);
    expect(new Set(labels)).toEqual(new Set([0, 1, 2]));

    const onlyA = await grey((await maskPng(app, `${base}?kind=binary&region=2`)).bytes);
    expect([onlyA.filter((v) => v === 255).length, onlyA[at(5, 5)], onlyA[at(30, 15)]]).toEqual([
      100, 255, 0,
    ]);

    // Region 1's colour is hue 0 at saturation 0.8: (255, 51, 51). Inside, 45 % of it over 220:
    // 0.55 × 220 + 0.45 × 255 = 235.75 → 236, and 0.55 × 220 + 0.45 × 51 = 143.95 → 144.
    const overlay = await maskPng(app, `${base}?kind=overlay`);
    expect([overlay.meta.width, overlay.meta.height]).toEqual([40, 30]);
    const o = await rgba(overlay.bytes);
    const px = (data: Uint8Array, x: number, y: number) =>
      Array.from(data.subarray(4 * at(x, y), 4 * at(x, y) + 4));
    expect(px(o, 30, 15)).toEqual([236, 144, 144, 255]); // inside B
    expect(px(o, 25, 10)).toEqual([255, 51, 51, 255]); // B's outline
    expect(px(o, 0, 0)).toEqual([20, 20, 20, 255]); // background untouched
    expect(px(o, 24, 10)).toEqual([20, 20, 20, 255]);

    const cutout = await rgba((await maskPng(app, `${base}?kind=cutout`)).bytes);
    expect([px(cutout, 30, 15), px(cutout, 5, 5), px(cutout, 0, 0), px(cutout, 24, 12)]).toEqual([
      [220, 220, 220, 255],
      [220, 220, 220, 255],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  test("the overlay of a large photo is a WebP no bigger than the photo; PNG on request", async () => {
    const { app } = ctx();
    // A real photo at 2560×1440, saved as a camera or an editor would (JPEG, quality 85).
    const photo = new Uint8Array(
      await sharp(await fixture("photos/elephants-5640x3172.jpg"))
        .resize(2560)
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    const form = new FormData();
    form.append("file", new File([photo], "elephants.jpg"));
    const uploaded = await app.request("/v1/images", { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id as string;
    const seg = await created(app, id, { method: "otsu", downscale: 4 });
    const base = `/v1/segmentations/${seg.id}/mask?kind=overlay`;

    const overlay = await app.request(base);
    expect([overlay.status, overlay.headers.get("content-type")]).toEqual([200, "image/webp"]);
    const webp = new Uint8Array(await overlay.arrayBuffer());
    const meta = await sharp(webp).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 2560, 1440]);
    expect(webp.length).toBeLessThanOrEqual(photo.length);
    console.info(`overlay of a 2560×1440 JPEG of ${photo.length} bytes: WebP ${webp.length} bytes`);

    // Asked for, the PNG is lossless, and many times the photo: why it is not the default.
    const png = await maskPng(app, `${base}&format=png`);
    expect([png.meta.width, png.meta.height]).toEqual([2560, 1440]);
    expect(png.bytes.length).toBeGreaterThan(photo.length * 3);
    console.info(`…and as PNG ${png.bytes.length} bytes`);

    // A cutout keeps its alpha in WebP; binary and label masks carry exact values: PNG only.
    const cutout = await app.request(`/v1/segmentations/${seg.id}/mask?kind=cutout`);
    expect(cutout.headers.get("content-type")).toBe("image/webp");
    expect((await sharp(new Uint8Array(await cutout.arrayBuffer())).metadata()).hasAlpha).toBe(
      true,
    );
    const binary = await app.request(`/v1/segmentations/${seg.id}/mask?kind=binary&format=webp`);
    expect(binary.status).toBe(422);
    const problem = (await binary.json()) as Problem;
    expect(problem.errors?.map((e) => e.path)).toEqual(["query.format"]);
    expect(problem.detail).toContain("WebP is for overlay and cutout");
  }, 120_000);

  test("COCO RLE per region decodes back to the mask; one region on request", async () => {
    const { app } = ctx();
    const id = await upload(app, squares);
    const seg = await created(app, id, { method: "otsu" });
    type Rle = {
      size: [number, number];
      regions: { label: number; rle: { size: [number, number]; counts: string } }[];
    };
    const rle = (await (
      await app.request(`/v1/segmentations/${seg.id}/mask?format=rle`)
    ).json()) as Rle;
    expect([rle.size, rle.regions.map((r) => [r.label, r.rle.size])]).toEqual([
      [30, 40],
      [
        [1, [30, 40]],
        [2, [30, 40]],
      ],
    ]);
    for (const r of rle.regions) {
      const m = expandCocoCounts(decodeCocoCounts(r.rle.counts), 40, 30);
      const inside = r.label === 1 ? inB : inA;
      expect(Array.from(m)).toEqual(
        Array.from(m, (_, p) => (inside(p % 40, Math.floor(p / 40)) ? 1 : 0)),
      );
    }
    const one = (await (
      await app.request(`/v1/segmentations/${seg.id}/mask?format=rle&region=2`)
    ).json()) as Rle;
    expect(one.regions.map((r) => r.label)).toEqual([2]);
  });

  test("more than 255 regions: a 16-bit label PNG", async () => {
    const { app } = ctx();
    // One bright pixel every third pixel each way: 22 × 22 = 484 regions.
    const dots = makePng(64, 64, (x, y) => {
      const v = x % 3 === 0 && y % 3 === 0 ? 255 : 0;
      return [v, v, v, 255];
    });
    const id = await upload(app, dots);
    const seg = await created(app, id, { method: "threshold", threshold: 128 });
    expect(seg.region_count).toBe(484);
    const { meta, bytes } = await maskPng(app, `/v1/segmentations/${seg.id}/mask?kind=labels`);
    expect([meta.channels, meta.depth]).toEqual([1, "ushort"]);
    const raw = await sharp(bytes).toColourspace("grey16").raw({ depth: "ushort" }).toBuffer();
    const samples = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
    expect(new Set(samples).size).toBe(485);
    expect(Math.max(...samples)).toBe(484);
    expect(samples[1]).toBe(0);
  });

  test("histograms restricted to a segmentation, or to one of its regions", async () => {
    const { app, db } = ctx();
    const id = await upload(app, squares);
    const seg = await created(app, id, { method: "otsu" });
    type H = { pixels: number; channels: { counts: number[] }[] };
    const histogram = (q: string) => app.request(`/v1/images/${id}/histogram?space=luma&${q}`);
    const region1 = await histogram(`mask=${seg.id}&region=1`);
    const h = (await region1.json()) as H;
    expect([h.pixels, h.channels[0]?.counts[220], h.channels[0]?.counts[20]]).toEqual([
      192, 192, 0,
    ]);
    expect(((await (await histogram(`mask=${seg.id}`)).json()) as H).pixels).toBe(292);
    expect((await histogram(`mask=${seg.id}&region=1`)).headers.get("x-analysis-cache")).toBe(
      "hit",
    );
    expect(((await (await histogram("")).json()) as H).pixels).toBe(1200);

    // Region without mask, a region past the last, another image's segmentation: 422s.
    const other = await upload(app, threeLevels);
    const otherSeg = await created(app, other, { method: "otsu" });
    for (const [q, path] of [
      ["region=1", "query.region"],
      [`mask=${seg.id}&region=3`, "query.region"],
      [`mask=${otherSeg.id}`, "query.mask"],
      ["mask=nope", "query.mask"],
    ] as const) {
      const res = await histogram(q);
      const problem = (await res.json()) as Problem;
      expect([q, res.status, problem.errors?.[0]?.path]).toEqual([q, 422, path]);
    }

    // Deleting the segmentation takes its restricted histograms with it, not the image's own.
    const cached = async () => {
      const [row] = await db.sql`
        SELECT count(*) FILTER (WHERE segmentation_id IS NOT NULL) AS masked,
               count(*) FILTER (WHERE segmentation_id IS NULL) AS plain
        FROM analysis_cache WHERE image_id = ${id}`;
      return [Number(row?.masked), Number(row?.plain)];
    };
    expect(await cached()).toEqual([2, 1]);
    expect((await app.request(`/v1/segmentations/${seg.id}`, { method: "DELETE" })).status).toBe(
      204,
    );
    expect(await cached()).toEqual([0, 1]);
    expect((await histogram(`mask=${seg.id}`)).status).toBe(404);
  });

  test("deleting an image deletes its segmentations and their cached histograms: 404 afterwards", async () => {
    const c = ctx();
    const id = await upload(c.app, squares);
    const seg = await created(c.app, id, { method: "otsu" });
    expect((await c.app.request(`/v1/images/${id}/histogram?mask=${seg.id}`)).status).toBe(200);
    expect((await c.app.request(`/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
    for (const path of [
      `/v1/segmentations/${seg.id}`,
      `/v1/segmentations/${seg.id}/mask`,
      `/v1/images/${id}/segmentations`,
      `/v1/images/${id}/histogram?mask=${seg.id}`,
    ]) {
      expect([path, (await c.app.request(path)).status]).toEqual([path, 404]);
    }
    const [row] = await c.db.sql`
      SELECT (SELECT count(*) FROM segmentations WHERE image_id = ${id}) AS s,
             (SELECT count(*) FROM analysis_cache WHERE image_id = ${id}) AS a`;
    expect([Number(row?.s), Number(row?.a)]).toEqual([0, 0]);
  });

  test("bad parameters are 422 problems that name them", async () => {
    const { app } = ctx();
    const id = await upload(app, squares);
    const cases: [unknown, string, string | undefined][] = [
      [
        { method: "otsu", minArea: -1 },
        "Expected an integer between 0 and 100000000 for minArea but received -1",
        "json.minArea",
      ],
      [
        { method: "multi-otsu", classes: 9 },
        "Expected an integer between 2 and 5 for classes but received 9",
        "json.classes",
      ],
      [
        { method: "adaptive", blockSize: 4 },
        "Expected an odd integer between 3 and 255 for blockSize but received 4",
        "json.blockSize",
      ],
      [
        { method: "adaptive", offset: 300 },
        "Expected a number between -255 and 255 for offset but received 300",
        "json.offset",
      ],
      [
        { method: "region-growing", tolerance: 201 },
        "Expected a number between 0 and 200 for tolerance but received 201",
        "json.tolerance",
      ],
      [
        { method: "region-growing", seeds: [{ x: 1.5, y: 0 }] },
        "Expected an integer between 0 and 1000000 for x but received 1.5",
        "json.seeds.0.x",
      ],
      [
        { method: "otsu", connectivity: 6 },
        "Expected 4 or 8 for connectivity",
        "json.connectivity",
      ],
      [
        { method: "otsu", channel: "alpha" },
        "Expected one of luma, r, g, b for channel",
        "json.channel",
      ],
      [
        { method: "threshold" },
        "Expected an integer between 0 and 255 for threshold",
        "json.threshold",
      ],
      [
        { method: "watershed" },
        "Expected method to be one of threshold, otsu, multi-otsu, adaptive, region-growing",
        "json.method",
      ],
      // Refused by what the pixels are, after validation: no field path.
      [
        { method: "region-growing", seeds: [{ x: 100, y: 1 }] },
        "Expected every seed inside the 40×30 image but received (100, 1)",
        undefined,
      ],
      [
        { method: "multi-otsu", classes: 3 },
        "Expected at least 3 distinct values for 3 classes but received 2",
        undefined,
      ],
    ];
    for (const [body, message, path] of cases) {
      const res = await segment(app, id, body);
      const problem = (await res.json()) as Problem;
      expect([body, res.status, res.headers.get("content-type")]).toEqual([
        body,
        422,
        "application/problem+json",
      ]);
      expect([body, problem.detail.includes(message), problem.errors?.[0]?.path]).toEqual([
        body,
        true,
        path,
      ]);
    }
    const mask = async (q: string) => {
      const seg = await created(app, id, { method: "otsu" });
      const res = await app.request(`/v1/segmentations/${seg.id}/mask?${q}`);
      return [res.status, ((await res.json()) as Problem).errors?.[0]?.path];
    };
    expect(await mask("kind=outline")).toEqual([422, "query.kind"]);
    expect(await mask("format=svg")).toEqual([422, "query.format"]);
    expect(await mask("region=3")).toEqual([422, "query.region"]);
    expect((await app.request("/v1/segmentations/not-a-uuid")).status).toBe(422);
    expect((await app.request(`/v1/segmentations/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await segment(app, crypto.randomUUID(), { method: "otsu" })).status).toBe(404);
  });

  test("another user's segmentations and images are not found", async () => {
    const c = ctx();
    const id = await upload(c.app, squares);
    const seg = await created(c.app, id, { method: "otsu" });
    const other = await c.createUser();
    for (const [path, method] of [
      [`/v1/segmentations/${seg.id}`, "GET"],
      [`/v1/segmentations/${seg.id}/mask`, "GET"],
      [`/v1/images/${id}/segmentations`, "GET"],
      [`/v1/segmentations/${seg.id}`, "DELETE"],
    ] as const) {
      expect([path, method, (await other.app.request(path, { method })).status]).toEqual([
        path,
        method,
        404,
      ]);
    }
    expect((await segment(other.app, id, { method: "otsu" })).status).toBe(404);
    const theirs = await upload(other.app, squares);
    const res = await other.app.request(`/v1/images/${theirs}/histogram?mask=${seg.id}`);
    expect(res.status).toBe(404);
    expect((await c.rawApp.request(`/v1/segmentations/${seg.id}`)).status).toBe(401);
    expect((await c.app.request(`/v1/segmentations/${seg.id}`)).status).toBe(200);
  });
});
