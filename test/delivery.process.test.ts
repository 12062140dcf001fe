import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { seededPng } from "./jobs/helpers.ts";
import {
  createScratchDatabase,
  postgresAvailable,
  type ScratchDatabase,
} from "./support/database.ts";
import { type RunningServer, SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

describe.skipIf(!postgresAvailable)("two server processes on one Postgres database", () => {
  let scratch: ScratchDatabase | undefined;
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) {
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
    await scratch?.drop();
  });

  test("a deleted image's renderings go from the other instance's memory within a second; a URL signed on one opens on the other", async () => {
    scratch = await createScratchDatabase("pictor_delivery");
    const url = scratch.url;
    const env = {
      DATABASE_URL: url,
      ...SERVER_ADMIN,
      JWT_KEYS: "k1:0123456789abcdef0123456789abcdef",
      RATE_LIMIT_REQUESTS: "0",
    };
    // One after the other: the second finds the first one's migrations applied.
    servers.push(await spawnServer(env));
    servers.push(await spawnServer(env));
    const [a, b] = servers as [RunningServer, RunningServer];
    const auth = await serverAuth(a.url);

    const form = new FormData();
    form.append("file", new File([seededPng(7, 120)], "shared.png"));
    const uploaded = await fetch(`${a.url}/v1/images`, {
      method: "POST",
      body: form,
      headers: auth,
    });
    expect(uploaded.status).toBe(201);
    const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id as string;
    const path = `/v1/images/${id}/render?w=60&format=webp`;
    const first = await fetch(`${a.url}${path}`, { headers: auth });
    expect(first.headers.get("x-render-cache")).toBe("miss");
    const bytes = new Uint8Array(await first.arrayBuffer());

    // B reads the rendering from Postgres once, then holds it: with the row gone it still answers.
    expect((await fetch(`${b.url}${path}`, { headers: auth })).headers.get("x-render-cache")).toBe(
      "hit",
    );
    const check = postgres(url, { max: 1, onnotice: () => {} });
    await check`DELETE FROM render_cache WHERE image_id = ${id}`;
    const fromMemory = await fetch(`${b.url}${path}`, { headers: auth });
    expect([fromMemory.status, fromMemory.headers.get("x-render-cache")]).toEqual([200, "hit"]);
    expect(new Uint8Array(await fromMemory.arrayBuffer())).toEqual(bytes);

    // The key generated at the first start is the database's: a URL signed on A opens on B.
    const signing = await fetch(`${a.url}/v1/signed-urls`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ path, expires_in: 600 }),
    });
    const signed = new URL(((await signing.json()) as { url: string }).url);
    const onB = await fetch(`${b.url}${signed.pathname}${signed.search}`);
    expect(onB.status).toBe(200);
    expect(new Uint8Array(await onB.arrayBuffer())).toEqual(bytes);

    const deleted = await fetch(`${a.url}/v1/images/${id}`, { method: "DELETE", headers: auth });
    expect(deleted.status).toBe(204);
    const since = performance.now();
    let status = 200;
    while (status === 200 && performance.now() - since < 1000) {
      status = (await fetch(`${b.url}${path}`, { headers: auth })).status;
      if (status === 200) await Bun.sleep(10);
    }
    expect(status).toBe(404);
    expect((await fetch(`${b.url}${signed.pathname}${signed.search}`)).status).toBe(404);
    await check.end();
  }, 120_000);
});
