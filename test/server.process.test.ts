import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { MIGRATIONS } from "../src/adapters/postgres/migrations/index.ts";
import {
  createScratchDatabase,
  postgresAvailable,
  type ScratchDatabase,
} from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";
import { type RunningServer, spawnServer } from "./support/server.ts";

const entry = new URL("../src/adapters/bun/server.ts", import.meta.url).pathname;
const cli = new URL("../src/adapters/bun/cli.ts", import.meta.url).pathname;

async function token(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username: email, password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("the Bun server process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pictor-server-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("a bad variable stops it with a message naming the variable", async () => {
    const proc = Bun.spawn([process.execPath, entry], {
      env: { PATH: process.env.PATH ?? "", PORT: "eighty", MAX_PIXELS: "-1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("PORT: Expected an integer between 0 and 65535 for PORT");
    expect(stderr).toContain("MAX_PIXELS");
  });

  test("a broker without DATABASE_URL is refused: no worker could reach the embedded database", async () => {
    const proc = Bun.spawn([process.execPath, entry], {
      env: {
        PATH: process.env.PATH ?? "",
        DATA_DIR: dataDir,
        AMQP_URL: "amqp://127.0.0.1:1",
        WORKER_SECRET: "x".repeat(32),
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const lines = (await new Response(proc.stdout).text()).trim().split("\n");
    expect(JSON.parse(lines.at(-1) ?? "{}")).toMatchObject({
      msg: "could not start",
      error:
        "AMQP_URL needs DATABASE_URL: workers run the jobs and must reach the API's database, which the embedded one does not allow",
    });
  });

  test("starts on the embedded database, serves /docs with local assets, keeps uploads, tokens and renderings across restarts; owns its data directory while it runs", async () => {
    const env = { DATA_DIR: dataDir };
    // The first admin, from the CLI, on the database the server is about to open.
    const created = Bun.spawnSync(
      [process.execPath, cli, "create-admin", "--email", "Root@Example.com"],
      { env: { PATH: process.env.PATH ?? "", ...env, ADMIN_PASSWORD: "a long admin passphrase" } },
    );
    expect(created.exitCode).toBe(0);
    expect(JSON.parse(created.stdout.toString())).toMatchObject({
      created: true,
      user: { email: "root@example.com", role: "admin" },
    });
    let server: RunningServer = await spawnServer(env);
    // While it runs, the data directory is its own: a second server and the CLI are refused.
    const inUse = `the embedded database under ${dataDir}/pglite is in use by PID ${server.proc.pid}; stop it first, or set DATABASE_URL`;
    expect(readFileSync(join(dataDir, "pglite.lock"), "utf8")).toBe(String(server.proc.pid));
    await expect(spawnServer(env)).rejects.toThrow(inUse);
    const refused = Bun.spawnSync(
      [process.execPath, cli, "create-admin", "--email", "other@example.com"],
      { env: { PATH: process.env.PATH ?? "", ...env, ADMIN_PASSWORD: "a long admin passphrase" } },
    );
    expect([refused.exitCode, refused.stderr.toString().trim()]).toEqual([1, inUse]);
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    const assets = [...html.matchAll(/(?:href|src)="([^"]+\.(?:css|js))"/g)].map(
      (m) => m[1] as string,
    );
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      expect(asset.startsWith("/docs/assets/")).toBe(true); // nothing fetched from a CDN
      const res = await fetch(`${server.url}${asset}`);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }

    const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
    const form = new FormData();
    form.append("file", new File([jpeg], "photo.jpg"));
    const anonymous = await fetch(`${server.url}/v1/images`, { method: "POST", body: form });
    expect(anonymous.status).toBe(401);
    const auth = {
      Authorization: `Bearer ${await token(server.url, "root@example.com", "a long admin passphrase")}`,
    };
    const uploaded = await fetch(`${server.url}/v1/images`, {
      method: "POST",
      body: form,
      headers: auth,
    });
    expect(uploaded.status).toBe(201);
    const { images } = (await uploaded.json()) as { images: { id: string }[] };
    const id = images[0]?.id;
    // A render's cache write finishes after its response; stopping right after it still keeps it.
    const render = () =>
      fetch(`${server.url}/v1/images/${id}/render?w=50&format=webp`, { headers: auth });
    const rendered = await render();
    expect([rendered.status, rendered.headers.get("x-render-cache")]).toEqual([200, "miss"]);

    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    server = await spawnServer(env);
    // Without JWT_KEYS the signing key lives in the database: the token outlives the process.
    const file = await fetch(`${server.url}/v1/images/${id}/file`, { headers: auth });
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(jpeg);
    const again = await render();
    expect([again.status, again.headers.get("x-render-cache"), again.headers.get("etag")]).toEqual([
      200,
      "hit",
      rendered.headers.get("etag"),
    ]);
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    // A lock left by a process that died (kill -9 runs no cleanup) is taken over.
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(join(dataDir, "pglite.lock"), String(dead));
    server = await spawnServer(env);
    expect(readFileSync(join(dataDir, "pglite.lock"), "utf8")).toBe(String(server.proc.pid));
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    // Four server starts, each compiling every codec in every worker before it listens.
  }, 120_000);
});

describe.skipIf(!postgresAvailable)("two instances on one empty Postgres database", () => {
  let scratch: ScratchDatabase | undefined;
  afterAll(() => scratch?.drop());

  test("both come up; each migration is applied once", async () => {
    scratch = await createScratchDatabase("pictor_migrate");
    const url = scratch.url;
    const env = {
      DATABASE_URL: url,
      ADMIN_EMAIL: "ops@example.com",
      ADMIN_PASSWORD: "a long admin passphrase",
      JWT_KEYS: "k1:0123456789abcdef0123456789abcdef",
    };
    const servers = await Promise.all([spawnServer(env), spawnServer(env)]);
    for (const s of servers) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    // Both ensured the same admin (one created it); a token from one works on the other.
    const [first, second] = servers as [RunningServer, RunningServer];
    const bearer = await token(first.url, "ops@example.com", "a long admin passphrase");
    const users = await fetch(`${second.url}/v1/admin/users`, {
      headers: { Authorization: `Bearer ${bearer}` },
    });
    expect(users.status).toBe(200);
    expect(((await users.json()) as { items: { email: string; role: string }[] }).items).toEqual([
      expect.objectContaining({ email: "ops@example.com", role: "admin" }),
    ]);
    const applied = servers.flatMap((s) =>
      s.output.map((l) => JSON.parse(l)).filter((l) => l.msg === "migration applied"),
    );
    expect(applied.map((l) => l.migration).sort()).toEqual(MIGRATIONS.map((m) => m.name));
    const check = postgres(url, { max: 1, onnotice: () => {} });
    const rows = await check<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`;
    await check.end();
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    for (const s of servers) {
      s.proc.kill("SIGTERM");
      expect(await s.proc.exited).toBe(0);
    }
  });
});
