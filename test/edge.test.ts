import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { builtinModules } from "node:module";
import sharp from "sharp";
import { loadLocalWasm, loadProjectWasm } from "../src/adapters/bun/wasm.ts";
import { createEdgeApp, type EdgeContext, type EdgeEnv } from "../src/adapters/edge/edge-app.ts";
import type { Database } from "../src/adapters/postgres/database.ts";
import { createCodecs } from "../src/core/formats/codecs.ts";
import { createInlineProcessor } from "../src/platform/inline-image-processor.ts";
import { createJsonLogger } from "../src/platform/logger.ts";
import { ARGON2_WASM_FILE, wasmPasswordHasher } from "../src/platform/password-hasher.ts";
import { memorySpool } from "../src/platform/spool.ts";
import { createServices } from "../src/wiring/create-services.ts";
import {
  openTestSchema,
  postgresAvailable,
  schemaUrl,
  TEST_LIMITS,
  TEST_RATE_LIMITS,
} from "./support/database.ts";
import { makePng } from "./support/fixtures.ts";

/** A Workers ExecutionContext that keeps what it was asked to wait for. */
function executionContext(): EdgeContext & { pending: Promise<unknown>[] } {
  const pending: Promise<unknown>[] = [];
  return { pending, waitUntil: (promise) => pending.push(promise) };
}

// 64×32: left half red, right half blue.
const halves = makePng(64, 32, (x) => (x < 32 ? [255, 0, 0, 255] : [0, 0, 255, 255]));

(postgresAvailable ? describe : describe.skip)("edge entry [postgres]", () => {
  const appName = `pictor-edge-${crypto.randomUUID()}`;
  let db: Database;
  let env: EdgeEnv;
  const logs: string[] = [];
  const edge = createEdgeApp({
    wasm: loadLocalWasm,
    argon2: () => loadProjectWasm(ARGON2_WASM_FILE),
    logger: createJsonLogger("debug", (line) => logs.push(line)),
  });

  /** One request as Workers makes it: a fresh context, whose waitUntil work must settle. */
  async function call(path: string, init?: RequestInit): Promise<Response> {
    const ctx = executionContext();
    const response = await edge.fetch(new Request(`https://pictor.example${path}`, init), env, ctx);
    const body = response.body ? new Uint8Array(await response.arrayBuffer()) : null;
    expect(ctx.pending.length).toBe(1);
    await Promise.all(ctx.pending);
    return new Response(body, response);
  }
  const json = (body: unknown, token?: string): RequestInit => ({
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

  beforeAll(async () => {
    // What `npm start` or the CLI does before a deployment: the edge never migrates.
    const opened = await openTestSchema();
    db = opened.db;
    const url = schemaUrl(opened.schema, appName);
    env = {
      DATABASE_URL: url,
      JWT_KEYS: "edge-1:edge-test-secret-0123456789abcdefghijklmnop",
      LOG_LEVEL: "debug",
      // A binding that is not a string (a KV namespace, say) is not configuration.
      IMAGES_KV: { get: () => null },
    };
  });

  afterAll(async () => {
    await db?.close(); // drops the schema too
  });

  test("signup → token → upload → thumbnail → histogram → job, one client per request, all closed", async () => {
    const email = "edge@example.com";
    const password = "a long edge passphrase";
    const signup = await call("/v1/auth/signup", json({ email, password }));
    expect(signup.status).toBe(201);
    const tokenRes = await call("/v1/auth/token", json({ email, password }));
    expect(tokenRes.status).toBe(200);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const auth = { Authorization: `Bearer ${token}` };

    const form = new FormData();
    form.append("file", new File([halves], "halves.png"));
    const upload = await call("/v1/images", { method: "POST", headers: auth, body: form });
    expect(upload.status).toBe(201);
    const [image] = (
      (await upload.json()) as {
        images: { id: string; format: string; width: number; height: number; sha256: string }[];
      }
    ).images;
    expect(image).toMatchObject({ format: "png", width: 64, height: 32 });
    const id = image?.id as string;
    const original = await call(`/v1/images/${id}/file`, { headers: auth });
    expect(new Uint8Array(await original.arrayBuffer())).toEqual(halves);

    const thumb = await call(`/v1/images/${id}/render?w=16&format=png`, { headers: auth });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/png");
    const { data, info } = await sharp(new Uint8Array(await thumb.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([16, 8, 4]);
    expect([...data.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    expect([...data.subarray(15 * 4, 16 * 4)]).toEqual([0, 0, 255, 255]);

    const histogram = await call(`/v1/images/${id}/histogram?bins=2`, { headers: auth });
    expect(histogram.status).toBe(200);
    const h = (await histogram.json()) as { pixels: number; channels: { counts: number[] }[] };
    expect(h.pixels).toBe(2048);
    expect(h.channels.map((c) => c.counts)).toEqual([
      [1024, 1024],
      [2048, 0],
      [1024, 1024],
    ]);

    // Submitted on the edge, run by a Bun process on the same database.
    const submitted = await call(
      "/v1/jobs",
      json({ image_ids: [id], task: { histogram: { space: "rgb", bins: 2 } } }, token),
    );
    expect(submitted.status).toBe(202);
    const job = (await submitted.json()) as { id: string; status: string };
    expect(job.status).toBe("queued");
    const runner = createServices({
      db,
      spool: memorySpool,
      processor: createInlineProcessor(createCodecs(loadLocalWasm), createJsonLogger("silent")),
      hasher: wasmPasswordHasher(() => loadProjectWasm(ARGON2_WASM_FILE)),
      limits: TEST_LIMITS,
      auth: { jwtKeys: [], tokenTtlSeconds: 3600, admin: null, trustProxy: false },
      rateLimits: TEST_RATE_LIMITS,
      logger: createJsonLogger("silent"),
    });
    await runner.background.start();
    let status = job.status;
    for (let i = 0; i < 100 && !["succeeded", "failed"].includes(status); i++) {
      await Bun.sleep(50);
      const res = await call(`/v1/jobs/${job.id}`, { headers: auth });
      status = ((await res.json()) as { status: string }).status;
    }
    await runner.background.stop();
    expect(status).toBe("succeeded");

    // Every request's client was ended through waitUntil: none is left on the server.
    const [open] = await db.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = ${appName}`;
    expect(open?.count).toBe(0);
    expect(logs.some((line) => line.includes('"path":"/v1/images"'))).toBe(true);
  });

  test("the web app on the edge: sign up by the form, a Secure session cookie, the gallery and its thumbnails", async () => {
    const visitor = await call("/");
    expect([visitor.status, visitor.headers.get("location")]).toEqual([302, "/login"]);
    const login = await call("/login");
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('type="password"');

    const signup = await call("/signup", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: "https://pictor.example",
      },
      body: new URLSearchParams({ email: "web@example.com", password: "a long web passphrase" }),
    });
    expect([signup.status, signup.headers.get("location")]).toEqual([303, "/"]);
    const setCookie = signup.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = setCookie.split(";")[0] as string;

    // The page's own upload: the cookie, from the same origin.
    const form = new FormData();
    form.append("file", new File([halves], "halves.png"));
    const upload = await call("/v1/images", {
      method: "POST",
      headers: { Cookie: cookie, Origin: "https://pictor.example" },
      body: form,
    });
    expect(upload.status).toBe(201);
    const id = ((await upload.json()) as { images: { id: string }[] }).images[0]?.id as string;

    const gallery = await call("/", { headers: { Cookie: cookie } });
    expect(gallery.status).toBe(200);
    const html = await gallery.text();
    expect(html).toContain("web@example.com");
    const thumb = html
      .match(/src="(\/v1\/images\/[^"]+\/render[^"]+)"/)?.[1]
      ?.replaceAll("&amp;", "&");
    expect(thumb).toStartWith(`/v1/images/${id}/render`);
    const thumbnail = await call(thumb as string, { headers: { Cookie: cookie } });
    expect([thumbnail.status, thumbnail.headers.get("content-type")]).toEqual([200, "image/jpeg"]);
    for (const asset of html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)) {
      expect((await call(asset[1] as string)).status).toBe(200);
    }
  });

  test("a bad binding answers a problem, not a crash", async () => {
    const misconfigured = createEdgeApp({
      wasm: {},
      argon2: () => loadProjectWasm(ARGON2_WASM_FILE),
      logger: createJsonLogger("silent"),
    });
    const res = await misconfigured.fetch(
      new Request("https://pictor.example/healthz"),
      { DATABASE_URL: "mysql://nope" },
      executionContext(),
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("edge bundle", () => {
  test("bundles for a browser-like target with only Workers' nodejs_compat modules left", async () => {
    const builtins = new Set(builtinModules);
    const imported = new Map<string, Set<string>>();
    const result = await Bun.build({
      entrypoints: [new URL("../src/adapters/edge/worker.ts", import.meta.url).pathname],
      target: "browser",
      // What wrangler resolves for Workers: postgres.js's cf/ build.
      conditions: ["workerd", "worker", "browser"],
      throw: false,
      plugins: [
        {
          name: "record-runtime-imports",
          setup(build) {
            build.onResolve({ filter: /.*/ }, (args) => {
              const bare = args.path.replace(/^node:/, "");
              const runtime =
                args.path.startsWith("node:") ||
                args.path.startsWith("bun:") ||
                args.path.startsWith("cloudflare:") ||
                builtins.has(bare.split("/")[0] as string);
              // Wrangler's CompiledWasm rule turns these into WebAssembly.Modules.
              if (!runtime && !args.path.endsWith(".wasm")) return undefined;
              const key = args.path.endsWith(".wasm") ? "*.wasm" : args.path;
              const importers = imported.get(key) ?? new Set();
              importers.add(args.importer.replace(/^.*node_modules\//, ""));
              imported.set(key, importers);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    expect(result.logs.map(String)).toEqual([]);
    expect(result.success).toBe(true);
    // node:buffer, node:events and node:stream are in nodejs_compat; cloudflare:sockets is the
    // Workers TCP API postgres.js connects with. All from postgres.js's cf/ build, nothing else.
    expect([...imported.keys()].sort()).toEqual([
      "*.wasm",
      "cloudflare:sockets",
      "node:buffer",
      "node:events",
      "node:stream",
    ]);
    for (const [name, importers] of imported) {
      if (name === "*.wasm") continue;
      for (const importer of importers) expect(importer).toStartWith("postgres/cf/");
    }
  });
});
