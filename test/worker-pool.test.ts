import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { createWorkerPool } from "../src/adapters/bun/worker-pool.ts";
import { sharedCopy } from "../src/core/lib/bytes.ts";
import type { PipelineJob } from "../src/core/pipeline/pipeline.ts";
import { PipelineSpecSchema } from "../src/core/pipeline/pipeline-spec.ts";
import { ApiError } from "../src/platform/api-error.ts";
import { processPipeline } from "../src/platform/image-processor.ts";
import { createJsonLogger } from "../src/platform/logger.ts";
import { seedServerDataDir } from "./support/database.ts";
import { noise, pngsuite } from "./support/fixtures.ts";
import { SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

// 8000 × 6250 = 50 MP, the default MAX_PIXELS; a smooth gradient keeps the file small.
const big = new Uint8Array(
  await sharp({ create: { width: 8000, height: 6250, channels: 3, background: "#3366aa" } })
    .jpeg({ quality: 50 })
    .toBuffer(),
);

const thumbnailOf = (bytes: Uint8Array, format: PipelineJob["format"]): PipelineJob => ({
  bytes,
  format,
  spec: {
    ...PipelineSpecSchema.parse({ operations: [{ op: "resize", width: 64 }] }),
    format: "png",
  },
  maxPixels: 60_000_000,
});

describe("worker pool", () => {
  const logger = createJsonLogger("silent");

  test("a full queue answers 503 with Retry-After instead of growing", async () => {
    const pool = createWorkerPool({ size: 1, queueLimit: 1, timeoutMs: 60_000, logger });
    const running = processPipeline(pool, thumbnailOf(big, "jpeg"));
    const queued = processPipeline(pool, thumbnailOf(big, "jpeg"));
    const refused = await processPipeline(pool, thumbnailOf(big, "jpeg")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, extra: { headers: { "Retry-After": "1" } } });
    expect((await running).width).toBe(64);
    expect((await queued).width).toBe(64);
    await pool.close();
  });

  test("a job over the time limit is stopped; the pool goes on with a fresh worker", async () => {
    // Decoding 50 MP takes about a second here; a 32×32 PNG (codecs included) far less. The
    // flop comes first so that the JPEG is decoded at full size, not reduced on load.
    const pool = createWorkerPool({ size: 1, queueLimit: 4, timeoutMs: 400, logger });
    const fullSize = PipelineSpecSchema.parse({
      operations: [{ op: "flop" }, { op: "resize", width: 64 }],
    });
    const slow = await processPipeline(pool, {
      ...thumbnailOf(big, "jpeg"),
      spec: { ...fullSize, format: "png" },
    }).catch((e: unknown) => e);
    expect(slow).toMatchObject({ status: 503 });
    expect((slow as Error).message).toContain("IMAGE_TIMEOUT_MS");
    expect(
      (await processPipeline(pool, thumbnailOf(await pngsuite("basn6a08.png"), "png"))).width,
    ).toBe(64);
    await pool.close();
  });

  test("an undecodable image is a 422 with the codec's reason, and the worker survives", async () => {
    const pool = createWorkerPool({ size: 1, queueLimit: 4, timeoutMs: 10_000, logger });
    // mozjpeg makes the best of a truncated file; a header of garbage it cannot.
    const broken = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...noise(2000)]);
    const err = await processPipeline(pool, thumbnailOf(broken, "jpeg")).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422 });
    expect(
      (await processPipeline(pool, thumbnailOf(await pngsuite("basn6a08.png"), "png"))).width,
    ).toBe(64);
    await pool.close();
  });

  test("an original held in shared memory (as the originals cache keeps it) renders as a plain one, and stays whole", async () => {
    const pool = createWorkerPool({ size: 2, queueLimit: 4, timeoutMs: 10_000, logger });
    const png = await pngsuite("basn6a08.png");
    const shared = sharedCopy(png);
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    const [a, b] = await Promise.all([
      processPipeline(pool, thumbnailOf(shared, "png")),
      processPipeline(pool, thumbnailOf(shared, "png")),
    ]);
    const plain = await processPipeline(pool, thumbnailOf(png, "png"));
    expect(a.bytes).toEqual(plain.bytes);
    expect(b.bytes).toEqual(plain.bytes);
    expect(shared).toEqual(png);
    await pool.close();
  });
});

describe("the HTTP event loop while a 50 MP image is processed", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pictor-pool-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("/healthz keeps answering while the render runs, never held for a sizeable part of it", async () => {
    // Started as a restart: the first start (initdb) is tested in server.process.test.ts.
    await seedServerDataDir(dataDir);
    const server = await spawnServer({ DATA_DIR: dataDir, IMAGE_WORKERS: "1", ...SERVER_ADMIN });
    try {
      const headers = await serverAuth(server.url);
      const form = new FormData();
      form.append("file", new File([big], "big.jpg"));
      const up = await fetch(`${server.url}/v1/images`, { method: "POST", body: form, headers });
      expect(up.status).toBe(201);
      const { images } = (await up.json()) as { images: { id: string }[] };
      let done = false;
      const started = performance.now();
      const render = fetch(`${server.url}/v1/images/${images[0]?.id}/render?w=300&format=jpeg`, {
        headers,
      }).then(async (r) => {
        done = true;
        return r;
      });
      const latencies: number[] = [];
      let answeredDuring = 0;
      while (!done) {
        const t = performance.now();
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        latencies.push(performance.now() - t);
        if (!done) answeredDuring++;
        await Bun.sleep(5);
      }
      expect((await render).status).toBe(200);
      const renderMs = performance.now() - started;
      // Relative to the render, not in absolute milliseconds, so a busy machine (which slows
      // both) cannot break it: a decode or resize on the event loop would hold one probe for
      // most of the render, and leave few answered before it ends.
      expect(answeredDuring).toBeGreaterThanOrEqual(5);
      expect(Math.max(...latencies)).toBeLessThan(renderMs / 4);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
    }
  });
});
