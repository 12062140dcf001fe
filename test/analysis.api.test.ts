import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeWithS3 } from "./support/database.ts";
import { makePng } from "./support/fixtures.ts";

type HistogramJson = {
  space: string;
  bins: number;
  pixels: number;
  channels: { name: string; counts: number[]; edges: number[]; mean: number; median: number }[];
};

async function upload(app: App, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const form = new FormData();
  form.append("file", new File([bytes], "h.png"));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

// 8×8: left half red, right half blue, bottom row transparent (not counted).
const halves = makePng(8, 8, (x, y) =>
  y === 7 ? [0, 0, 0, 0] : x < 4 ? [255, 0, 0, 255] : [0, 0, 255, 255],
);

describeWithS3("histogram API", (ctx) => {
  test("exact counts of a known image, in each colour space", async () => {
    const { app } = ctx();
    const id = await upload(app, halves);
    const rgb = (await (
      await app.request(`/v1/images/${id}/histogram?bins=2`)
    ).json()) as HistogramJson;
    expect(rgb.pixels).toBe(56);
    expect(rgb.channels.map((c) => [c.name, c.counts])).toEqual([
      ["r", [28, 28]],
      ["g", [56, 0]],
      ["b", [28, 28]],
    ]);
    expect(rgb.channels[0]?.edges).toEqual([0, 128, 256]);
    const luma = (await (
      await app.request(`/v1/images/${id}/histogram?space=luma`)
    ).json()) as HistogramJson;
    expect([luma.channels[0]?.counts[54], luma.channels[0]?.counts[18]]).toEqual([28, 28]);
    for (const space of ["hsv", "lab"]) {
      const h = (await (
        await app.request(`/v1/images/${id}/histogram?space=${space}&bins=16`)
      ).json()) as HistogramJson;
      for (const ch of h.channels) expect(ch.counts.reduce((a, b) => a + b, 0)).toBe(56);
    }
  });

  test("a repeated request is served from the cache, with no pixel work", async () => {
    const c = ctx();
    const id = await upload(
      c.app,
      makePng(16, 16, (x, y) => [x * 16, y * 16, 99, 255]),
    );
    const first = await c.app.request(`/v1/images/${id}/histogram?space=hsv&bins=32`);
    expect(first.headers.get("x-analysis-cache")).toBe("miss");
    const body = await first.json();
    const jobs = c.processor.stats().completed;
    const second = await c.app.request(`/v1/images/${id}/histogram?bins=32&space=hsv`);
    expect(second.headers.get("x-analysis-cache")).toBe("hit");
    expect(await second.json()).toEqual(body);
    expect(c.processor.stats().completed).toBe(jobs);
  });

  test("parameters are validated; deleting the image deletes its cached results", async () => {
    const c = ctx();
    const id = await upload(c.app, halves);
    const bad = await c.app.request(`/v1/images/${id}/histogram?bins=0&space=cmyk`);
    expect(bad.status).toBe(422);
    const detail = ((await bad.json()) as { detail: string }).detail;
    expect(detail).toContain('Expected an integer between 1 and 256 for bins but received "0"');
    expect(detail).toContain("Expected one of rgb, luma, hsv, lab for space");
    expect((await c.app.request(`/v1/images/${id}/histogram`)).status).toBe(200);
    const rows = async () =>
      Number(
        (await c.db.sql`SELECT count(*) AS n FROM analysis_cache WHERE image_id = ${id}`)[0]?.n,
      );
    expect(await rows()).toBe(1);
    expect((await c.app.request(`/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await rows()).toBe(0);
    expect((await c.app.request(`/v1/images/${id}/histogram`)).status).toBe(404);
  });
});
