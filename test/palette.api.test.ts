import { expect, test } from "bun:test";
import sharp from "sharp";
import { rgbToLab } from "../src/core/analysis/histogram.ts";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase } from "./support/database.ts";
import { makePng } from "./support/fixtures.ts";

type Problem = { status: number; detail: string; errors: { path: string }[] };

async function uploadPng(app: App, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const form = new FormData();
  form.append("file", new File([bytes], "palette.png"));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

// 8×8: four rows of red, two of navy, then cream on the left and transparent green on the right.
const threeColours = makePng(8, 8, (x, y) =>
  y < 4
    ? [230, 57, 70, 255]
    : y < 6
      ? [29, 53, 87, 255]
      : x < 4
        ? [241, 250, 238, 255]
        : [0, 255, 0, 0],
);

const colour = (rgb: [number, number, number], pixels: number) => ({
  hex: `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`,
  rgb,
  lab: rgbToLab(...rgb),
  pixels,
  share: pixels / 56,
});

describeEachDatabase("palette API", (ctx) => {
  test("the dominant colours with their shares; a repeat is served from the cache", async () => {
    const c = ctx();
    const id = await uploadPng(c.app, threeColours);
    const first = await c.app.request(`/v1/images/${id}/palette`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-analysis-cache")).toBe("miss");
    const body = await first.json();
    expect(body).toEqual({
      pixels: 56,
      colors: [colour([230, 57, 70], 32), colour([29, 53, 87], 16), colour([241, 250, 238], 8)],
    });
    const jobs = c.processor.stats().completed;
    const second = await c.app.request(`/v1/images/${id}/palette?colors=5`);
    expect(second.headers.get("x-analysis-cache")).toBe("hit");
    expect(await second.json()).toEqual(body);
    expect(c.processor.stats().completed).toBe(jobs);
    const one = await c.app.request(`/v1/images/${id}/palette?colors=1`);
    expect(one.headers.get("x-analysis-cache")).toBe("miss");
    // The mean of all: R (32 × 230 + 16 × 29 + 8 × 241) / 56 = 174.3, G 4672 / 56, B 5536 / 56.
    expect(await one.json()).toEqual({ pixels: 56, colors: [colour([174, 83, 99], 56)] });
  });

  test("an unknown image is 404; colors outside 1–16 is 422 naming the parameter", async () => {
    const c = ctx();
    const missing = await c.app.request(`/v1/images/${crypto.randomUUID()}/palette`);
    expect(missing.status).toBe(404);
    const id = await uploadPng(c.app, threeColours);
    for (const bad of ["0", "17", "two"]) {
      const res = await c.app.request(`/v1/images/${id}/palette?colors=${bad}`);
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Problem;
      expect(problem.detail).toBe(
        `query.colors: Expected an integer between 1 and 16 for colors but received "${bad}"`,
      );
      expect(problem.errors.map((e) => e.path)).toEqual(["query.colors"]);
    }
  });
});

describeEachDatabase("histogram charts API", (ctx) => {
  test("format=svg: a standalone SVG chart with an ETag that gives 304", async () => {
    const c = ctx();
    const id = await uploadPng(c.app, threeColours);
    const res = await c.app.request(`/v1/images/${id}/histogram?format=svg&bins=64`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    const svg = await res.text();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"')).toBe(
      true,
    );
    expect([...svg.matchAll(/<path data-channel="(\w)"/g)].map((m) => m[1])).toEqual([
      "r",
      "g",
      "b",
    ]);
    expect(svg).toContain("<title>rgb histogram, 64 bins, 56 pixels</title>");
    const etag = res.headers.get("etag") as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await c.app.request(`/v1/images/${id}/histogram?format=svg&bins=64`, {
      headers: { "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("x-analysis-cache")).toBe("hit");
    // The JSON of the same parameters is the same cached histogram.
    const json = await c.app.request(`/v1/images/${id}/histogram?bins=64&format=json`);
    expect(json.headers.get("content-type")).toStartWith("application/json");
    expect(json.headers.get("x-analysis-cache")).toBe("hit");
  });

  test("format=png: a PNG chart that sharp decodes, sized by the number of panels", async () => {
    const c = ctx();
    const id = await uploadPng(c.app, threeColours);
    for (const [space, height] of [
      ["rgb", 400],
      ["hsv", 622],
    ] as const) {
      const res = await c.app.request(`/v1/images/${id}/histogram?format=png&space=${space}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const meta = await sharp(new Uint8Array(await res.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", 800, height]);
    }
  });

  test("scale=log: the count axis by decades, in SVG and PNG; the ETag differs from linear", async () => {
    const c = ctx();
    const id = await uploadPng(c.app, threeColours);
    const linear = await c.app.request(`/v1/images/${id}/histogram?format=svg&bins=64`);
    const log = await c.app.request(`/v1/images/${id}/histogram?format=svg&bins=64&scale=log`);
    expect(log.status).toBe(200);
    const svg = await log.text();
    expect(svg).toContain("<title>rgb histogram, 64 bins, 56 pixels, log scale</title>");
    const labels = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(expect.arrayContaining(["0", "1", "10", "100"]));
    expect(log.headers.get("etag")).not.toBe(linear.headers.get("etag"));
    const png = await c.app.request(`/v1/images/${id}/histogram?format=png&scale=log`);
    expect(png.status).toBe(200);
    const meta = await sharp(new Uint8Array(await png.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 800, 400]);
    const bad = await c.app.request(`/v1/images/${id}/histogram?format=svg&scale=cubic`);
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as Problem;
    expect(problem.detail).toBe("query.scale: Expected one of linear, log for scale");
    expect(problem.errors.map((e) => e.path)).toEqual(["query.scale"]);
  });

  test("format=bogus is 422 naming the parameter and what it allows", async () => {
    const c = ctx();
    const id = await uploadPng(c.app, threeColours);
    const res = await c.app.request(`/v1/images/${id}/histogram?format=bogus`);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.detail).toBe("query.format: Expected one of json, svg, png for format");
    expect(problem.errors.map((e) => e.path)).toEqual(["query.format"]);
  });
});
