import { expect, test } from "bun:test";
import sharp from "sharp";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase } from "./support/database.ts";

// Issue 18: twenty identical requests arriving together did the work twenty times.

async function uploadPhoto(app: App): Promise<string> {
  // Large enough that the first render is still running when the last request arrives.
  const jpeg = await sharp({
    create: { width: 1600, height: 1200, channels: 3, background: { r: 40, g: 120, b: 200 } },
  })
    .composite([
      {
        input: { create: { width: 800, height: 600, channels: 3, background: "#c83" } },
        left: 100,
        top: 100,
      },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
  const form = new FormData();
  form.append("file", new File([new Uint8Array(jpeg)], "photo.jpg"));
  const res = await app.request("/v1/images", { method: "POST", body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

describeEachDatabase("identical concurrent requests", (ctx) => {
  test("20 identical renders run one computation and all get its bytes", async () => {
    const c = ctx();
    const id = await uploadPhoto(c.app);
    const before = c.processor.stats().completed;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => c.app.request(`/v1/images/${id}/render?w=300&format=webp`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(
      responses.map(async (r) => new Uint8Array(await r.arrayBuffer())),
    );
    for (const body of bodies) expect(body).toEqual(bodies[0] as Uint8Array<ArrayBuffer>);
    expect(c.processor.stats().completed - before).toBe(1);
  });

  test("20 identical histograms and palettes run one computation each", async () => {
    const c = ctx();
    const id = await uploadPhoto(c.app);
    const before = c.processor.stats().completed;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.app.request(
          i % 2
            ? `/v1/images/${id}/histogram?space=hsv&bins=16`
            : `/v1/images/${id}/palette?colors=4`,
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (let i = 2; i < 20; i++) expect(bodies[i]).toEqual(bodies[i % 2]);
    expect(c.processor.stats().completed - before).toBe(2);
  });
});
