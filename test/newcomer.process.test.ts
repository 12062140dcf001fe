import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedServerDataDir } from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";
import { SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

const dataDir = mkdtempSync(join(tmpdir(), "pictor-newcomer-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("what a newcomer meets over real HTTP: the docs URL in the log, / (the web app's login) and /docs/, an icon, a named file with its length, a 404 for a typo", async () => {
  // A copy of the migrated database: the first start is server.process.test.ts's subject.
  await seedServerDataDir(dataDir);
  const server = await spawnServer({ DATA_DIR: dataDir, ...SERVER_ADMIN });
  try {
    const listening = server.output.map((l) => JSON.parse(l)).find((l) => l.msg === "listening");
    expect(listening.docs).toBe(`${server.url}/docs`);

    const root = await fetch(`${server.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    // The web app's gallery, which sends a visitor without a session to its login page.
    expect(root.headers.get("location")).toBe("/login");
    const login = await fetch(`${server.url}/login`);
    expect(await login.text()).toContain("<title>Log in · Pictor</title>");
    for (const path of ["/docs", "/docs/"]) {
      const docs = await fetch(`${server.url}${path}`);
      expect([path, docs.status]).toEqual([path, 200]);
      const html = await docs.text();
      expect(html).toContain("<title>Pictor API</title>");
      expect(html).toContain('<link rel="icon" type="image/svg+xml" href="/favicon.svg" />');
    }
    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const icon = await fetch(`${server.url}${path}`);
      expect(icon.headers.get("content-type")).toBe("image/svg+xml");
      expect(await icon.text()).toStartWith("<svg");
    }
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      info: { title: string };
    };
    expect(spec.info.title).toBe("Pictor API");

    const typo = await fetch(`${server.url}/v1/imagez`);
    expect(typo.status).toBe(404);

    const auth = await serverAuth(server.url);
    const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
    const form = new FormData();
    form.append("file", new File([jpeg], "Landscape 1.jpeg"));
    const uploaded = await fetch(`${server.url}/v1/images`, {
      method: "POST",
      body: form,
      headers: auth,
    });
    const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id;
    const file = await fetch(`${server.url}/v1/images/${id}/file`, { headers: auth });
    expect(file.headers.get("content-length")).toBe(String(jpeg.length));
    expect(file.headers.get("content-disposition")).toBe('inline; filename="Landscape_1.jpg"');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(jpeg);
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
});
