import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import sharp from "sharp";
import { bunPasswordHasher } from "../src/adapters/bun/bun-password-hasher.ts";
import { loadLocalWasm } from "../src/adapters/bun/wasm.ts";
import type { Database } from "../src/adapters/postgres/database.ts";
import { createCodecs } from "../src/core/formats/codecs.ts";
import { createInlineProcessor } from "../src/platform/inline-image-processor.ts";
import { createJsonLogger } from "../src/platform/logger.ts";
import { memorySpool } from "../src/platform/spool.ts";
import { createServices } from "../src/wiring/create-services.ts";
import {
  openTestSchema,
  postgresAvailable,
  schemaUrl,
  TEST_LIMITS,
  TEST_RATE_LIMITS,
} from "./support/database.ts";
import { buildWorker, startWorkerd } from "./support/workerd.ts";

// The Worker bundled by wrangler and run by workerd (test/support/workerd.ts), against the
// Postgres server, with Bun's side of the same database (a user made there, a job run there).

const ROOT = new URL("..", import.meta.url).pathname;
const MiB = 2 ** 20;
const ELEPHANTS = join(ROOT, "test/fixtures/photos/elephants-5640x3172.jpg");

/** A multipart body of one file, as bytes (Miniflare's fetch takes no Bun FormData). */
function multipart(
  name: string,
  bytes: Uint8Array,
): { body: Uint8Array<ArrayBuffer>; type: string } {
  const boundary = `pictor${crypto.randomUUID()}`;
  const head = new TextEncoder().encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
  const body = new Uint8Array(head.length + bytes.length + tail.length);
  body.set(head);
  body.set(bytes, head.length);
  body.set(tail, head.length + bytes.length);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

const outdir = mkdtempSync(join(tmpdir(), "pictor-edge-"));
let upload = "";
let startError: unknown;
if (postgresAvailable) {
  try {
    upload = await buildWorker(outdir);
  } catch (err) {
    startError = err;
  }
}
if (startError) {
  if (process.env.REQUIRE_SERVICES === "1") throw startError;
  console.warn(`\n⚠ SKIPPING workerd tests: the Worker did not build (${String(startError)})\n`);
}

(postgresAvailable && !startError ? describe : describe.skip)("edge in workerd [postgres]", () => {
  const appName = `pictor-workerd-${crypto.randomUUID()}`;
  let db: Database;
  let mf: Miniflare | undefined;
  /** Every response's X-Wasm-Memory, summed: the isolate's WebAssembly memory at its end. */
  const memory: { path: string; total: number; parts: Record<string, number> }[] = [];

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await (mf as Miniflare).dispatchFetch(`http://pictor.test${path}`, init as never);
    const probe = res.headers.get("x-wasm-memory");
    if (probe) {
      const parts = JSON.parse(probe) as Record<string, number>;
      const total = Object.values(parts).reduce((a, b) => a + b, 0);
      memory.push({ path, total, parts });
    }
    return res as unknown as Response;
  }
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  async function uploadFile(name: string, bytes: Uint8Array, auth: Record<string, string>) {
    const { body, type } = multipart(name, bytes);
    return call("/v1/images", { method: "POST", headers: { ...auth, "Content-Type": type }, body });
  }

  beforeAll(async () => {
    // What `npm run cli` or `npm start` does before a deployment: the Worker never migrates.
    const opened = await openTestSchema();
    db = opened.db;
    const url = schemaUrl(opened.schema, appName);
    try {
      mf = await startWorkerd(outdir, {
        DATABASE_URL: url,
        JWT_KEYS: "edge-1:edge-test-secret-0123456789abcdefghijklmnop",
        LOG_LEVEL: "warn",
        EDGE_MEMORY_PROBE: "1",
      });
    } catch (err) {
      if (process.env.REQUIRE_SERVICES === "1") throw err;
      console.warn(`\n⚠ SKIPPING workerd tests: workerd did not start (${String(err)})\n`);
      mf = undefined;
    }
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    rmSync(outdir, { recursive: true, force: true });
    await db?.close(); // drops the schema too
  });

  test("the bundle fits Workers' free plan (3 MB gzipped)", () => {
    if (!mf) return;
    const gzip = upload.match(/gzip: ([\d.]+) KiB/);
    expect(gzip).not.toBeNull();
    expect(Number(gzip?.[1]) * 1024).toBeLessThan(3_000_000);
  });

  // About 45 s of CPU (build included), but npm test runs it beside other files on shared cores:
  // a generous limit; every wait inside is bounded.
  test("a 12 MP photo from sign-up to results.zip, a Bun worker running the job; users cross runtimes; ≤ 128 MiB of wasm", async () => {
    if (!mf) return;
    expect((await call("/healthz")).status).toBe(200);

    // A user made by the Bun server (Bun.password) logs in on the Worker, and the other way.
    const bunUsers = createServices({
      db,
      spool: memorySpool,
      processor: createInlineProcessor(createCodecs(loadLocalWasm), createJsonLogger("silent")),
      hasher: bunPasswordHasher(),
      limits: TEST_LIMITS,
      auth: { jwtKeys: [], tokenTtlSeconds: 3600, admin: null, trustProxy: false },
      rateLimits: TEST_RATE_LIMITS,
      logger: createJsonLogger("silent"),
    });
    await bunUsers.users.create("bun@example.com", "made on the bun side", "user");
    const fromBun = await post("/v1/auth/token", {
      email: "bun@example.com",
      password: "made on the bun side",
    });
    expect(fromBun.status).toBe(200);
    expect(
      (await post("/v1/auth/token", { email: "bun@example.com", password: "wrong one here" }))
        .status,
    ).toBe(400);

    const email = "edge@example.com";
    const password = "a long edge passphrase";
    expect((await post("/v1/auth/signup", { email, password })).status).toBe(201);
    await bunUsers.users.login(email, password);
    const tokenRes = await post("/v1/auth/token", { email, password });
    expect(tokenRes.status).toBe(200);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const auth = { Authorization: `Bearer ${token}` };

    // A 12 MP photo (4620×2598) made from the elephants fixture (see test/fixtures/photos).
    const jpeg = new Uint8Array(
      await sharp(ELEPHANTS).resize(4620).jpeg({ quality: 85 }).toBuffer(),
    );
    const up = await uploadFile("elephants-12mp.jpg", jpeg, auth);
    expect(up.status).toBe(201);
    const [image] = (
      (await up.json()) as { images: { id: string; width: number; height: number }[] }
    ).images;
    expect(image).toMatchObject({ width: 4620, height: 2598 });
    const id = image?.id as string;

    const thumb = await call(`/v1/images/${id}/render?w=400&format=jpeg`, { headers: auth });
    expect(thumb.status).toBe(200);
    const thumbMeta = await sharp(new Uint8Array(await thumb.arrayBuffer())).metadata();
    expect([thumbMeta.format, thumbMeta.width, thumbMeta.height]).toEqual(["jpeg", 400, 225]);

    const histogram = await call(`/v1/images/${id}/histogram?bins=16`, { headers: auth });
    expect(histogram.status).toBe(200);
    expect(((await histogram.json()) as { pixels: number }).pixels).toBe(4620 * 2598);

    const seg = await post(`/v1/images/${id}/segmentations`, { method: "otsu" }, auth);
    expect(seg.status).toBe(201);
    const { id: segId } = (await seg.json()) as { id: string };
    const mask = await call(`/v1/segmentations/${segId}/mask`, { headers: auth });
    expect([mask.status, mask.headers.get("content-type")]).toEqual([200, "image/png"]);
    const maskMeta = await sharp(new Uint8Array(await mask.arrayBuffer())).metadata();
    expect([maskMeta.width, maskMeta.height]).toEqual([4620, 2598]);

    const palette = await call(`/v1/images/${id}/palette?colors=5`, { headers: auth });
    expect(palette.status).toBe(200);

    // The same photo as a 12 MP PNG, rendered to WebP.
    const png = new Uint8Array(await sharp(jpeg).png({ compressionLevel: 3 }).toBuffer());
    const pngUp = await uploadFile("elephants-12mp.png", png, auth);
    expect(pngUp.status).toBe(201);
    const pngId = ((await pngUp.json()) as { images: { id: string }[] }).images[0]?.id;
    const webp = await call(`/v1/images/${pngId}/render?w=1600&format=webp`, { headers: auth });
    expect(webp.status).toBe(200);
    const webpMeta = await sharp(new Uint8Array(await webp.arrayBuffer())).metadata();
    expect([webpMeta.format, webpMeta.width, webpMeta.height]).toEqual(["webp", 1600, 900]);

    // The whole 12 MP as WebP is past the edge's output cap: refused before decoding.
    const whole = await call(`/v1/images/${pngId}/render?format=webp`, { headers: auth });
    expect(whole.status).toBe(422);
    expect(await whole.text()).toContain("the limit here is 2100000");

    // Past the edge's MAX_PIXELS (16 MP): refused from the header, before any decoding.
    const huge = new Uint8Array(
      await sharp({ create: { width: 5000, height: 4000, channels: 3, background: "#888" } })
        .jpeg()
        .toBuffer(),
    );
    const refused = await uploadFile("huge.jpg", huge, auth);
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("MAX_PIXELS");

    // An API key submits a job on the Worker; a Bun process on the same database runs it.
    const keyRes = await post("/v1/api-keys", { name: "edge" }, auth);
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };
    const submitted = await post(
      "/v1/jobs",
      { image_ids: [id], task: { histogram: { space: "rgb", bins: 4 } } },
      { "X-API-Key": key },
    );
    expect(submitted.status).toBe(202);
    const job = (await submitted.json()) as { id: string; status: string };
    await bunUsers.background.start();
    let status = job.status;
    for (let i = 0; i < 200 && !["succeeded", "failed"].includes(status); i++) {
      await Bun.sleep(100);
      const res = await call(`/v1/jobs/${job.id}`, { headers: { "X-API-Key": key } });
      status = ((await res.json()) as { status: string }).status;
    }
    await bunUsers.background.stop();
    expect(status).toBe("succeeded");
    const zip = await call(`/v1/jobs/${job.id}/results.zip`, { headers: { "X-API-Key": key } });
    expect([zip.status, zip.headers.get("content-type")]).toEqual([200, "application/zip"]);
    const zipBytes = new Uint8Array(await zip.arrayBuffer());
    expect([...zipBytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);

    // Every image request left the isolate within Workers' 128 MB of WebAssembly memory.
    const worst = memory.reduce((a, b) => (b.total > a.total ? b : a));
    console.info(
      `wasm memory, most at the end of a request: ${(worst.total / MiB).toFixed(1)} MiB (${worst.path} ${JSON.stringify(worst.parts)})`,
    );
    expect(memory.length).toBeGreaterThan(10);
    for (const m of memory) expect([m.path, m.total <= 128 * MiB]).toEqual([m.path, true]);

    // Each request's client was ended through waitUntil: none is left on the server.
    let open = -1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      const [row] = await db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = ${appName}`;
      open = row?.count ?? -1;
      if (open !== 0) await Bun.sleep(100);
    }
    expect(open).toBe(0);
  }, 600_000);
});
