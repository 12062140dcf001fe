import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase } from "./support/database.ts";
import { makePng } from "./support/fixtures.ts";
import {
  avifParts,
  buildAvif,
  inflateBombPng,
  ispe,
  manyScansJpeg,
  undecodableFiles,
} from "./support/hostile-images.ts";

/*
 * Issue 18's hostile files, through the real API on both databases: what no operation could
 * decode is refused at upload, in plain words; the CPU bombs are refused in well under the
 * worker timeout, and another user's small render meanwhile is not held up.
 */

type Problem = {
  status: number;
  detail: string;
  errors?: { status?: number; detail?: string; path?: string; message?: string }[];
};

function upload(app: App, name: string, bytes: Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  form.append("file", new File([bytes], name));
  return app.request("/v1/images", { method: "POST", body: form });
}

async function timed<T>(run: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const out = await run();
  return [out, performance.now() - started];
}

const undecodable = await undecodableFiles();
const parts = await avifParts();
const bombs: [string, Uint8Array<ArrayBuffer>, RegExp][] = [
  [
    "fake-size.avif",
    buildAvif(parts, {
      properties: [parts.av1C, ispe(1, 1), parts.pixi],
      associations: [[1, [1, 2, 3]]],
    }),
    /AVIF declares 1×1 but its AV1 data is 300×200/,
  ],
  ["20000-scans.jpg", await manyScansJpeg(20_000), /progressive scans/],
  ["24GB.png", inflateBombPng(24e9), /more than any encoding of a 1×1 image/],
];

describeEachDatabase(
  "hostile images",
  (ctx) => {
    test("what no operation could decode is refused at upload, in plain words, and not stored", async () => {
      const { app, db } = ctx();
      for (const file of undecodable) {
        const res = await upload(app, file.name, file.bytes);
        const body = (await res.json()) as Problem;
        expect({ name: file.name, status: res.status }).toEqual({ name: file.name, status: 422 });
        expect(res.headers.get("content-type")).toStartWith("application/problem+json");
        expect(body.detail).toMatch(file.reason);
        expect(body.detail).not.toMatch(/unwrap|panic|RuntimeError|wasm/i);
      }
      const [row] = await db.sql<{ n: string }[]>`SELECT count(*) AS n FROM images`;
      expect(Number(row?.n)).toBe(0);
    });

    test("CPU bombs are refused in well under 2 s each while another user's small render answers in < 1 s", async () => {
      const { app, createUser } = ctx();
      const other = await createUser();
      const small = makePng(64, 48, (x, y) => [x * 4, y * 5, 128, 255]);
      const stored = await upload(other.app, "small.png", small);
      expect(stored.status).toBe(201);
      const { images } = (await stored.json()) as { images: { id: string }[] };
      const id = images[0]?.id as string;

      const refusals = bombs.map(([name, bytes, reason]) =>
        timed(async () => {
          const res = await upload(app, name, bytes);
          const body = (await res.json()) as Problem;
          return { name, status: res.status, detail: body.detail, reason };
        }),
      );
      const [render, renderMs] = await timed(() =>
        other.app.request(`/v1/images/${id}/render?w=32&format=png`),
      );
      expect(render.status).toBe(200);
      expect(renderMs).toBeLessThan(1000);
      for (const [refusal, ms] of await Promise.all(refusals)) {
        expect(refusal.status).toBe(422);
        expect(refusal.detail).toMatch(refusal.reason);
        expect({ name: refusal.name, slow: ms >= 2000 }).toEqual({
          name: refusal.name,
          slow: false,
        });
        console.log(`${refusal.name}: refused in ${ms.toFixed(0)} ms`);
      }
      console.log(`small render meanwhile: ${renderMs.toFixed(0)} ms`);
    });

    test("a pipeline whose planned output passes MAX_PIXELS is refused before decoding, naming the operation", async () => {
      const { app } = ctx();
      const res = await upload(
        app,
        "wide.png",
        makePng(2000, 1600, () => [10, 20, 30, 255]),
      );
      const { images } = (await res.json()) as { images: { id: string }[] };
      const id = images[0]?.id as string;
      const [rotated, ms] = await timed(() => app.request(`/v1/images/${id}/render?rotate=45`));
      expect(rotated.status).toBe(422);
      const body = (await rotated.json()) as Problem;
      expect(body.detail).toBe(
        "The rotated image would be 2546×2546 = 6482116 pixels; the limit (MAX_PIXELS) is 5000000",
      );
      expect(body.errors).toEqual([{ path: "operations.0", message: body.detail }]);
      expect(ms).toBeLessThan(2000);
    });
  },
  { maxPixels: 5_000_000 },
);
