import { expect, test } from "bun:test";
import { describeEachDatabase } from "./support/database.ts";
import { pngsuite } from "./support/fixtures.ts";

const ID = "00000000-0000-4000-8000-000000000000";

describeEachDatabase("file names and unknown paths", (ctx) => {
  test("unknown paths under /v1 are a 404 (or 405) before authentication", async () => {
    const { rawApp } = ctx();
    for (const path of [
      "/v1/nothing",
      "/v1/images/x/y/z",
      "/v1/imagez",
      `/v1/images/${ID}/sharpen`,
    ]) {
      const res = await rawApp.request(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(((await res.json()) as { detail: string }).detail).toBe(`No route GET ${path}`);
    }
    const put = await rawApp.request(`/v1/images/${ID}`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, DELETE");
    // A served path still needs a credential.
    expect((await rawApp.request(`/v1/images/${ID}`)).status).toBe(401);
    expect((await rawApp.request("/v1/images")).status).toBe(401);
  });

  test("/file sends Content-Length and an inline Content-Disposition; derived images are named after their source", async () => {
    const { app } = ctx();
    const bytes = await pngsuite("basn2c08.png");
    const form = new FormData();
    form.append("file", new File([bytes], "Holiday photo (1).PNG"));
    const uploaded = await app.request("/v1/images", { method: "POST", body: form });
    const source = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id ?? "";

    const original = await app.request(`/v1/images/${source}/file`);
    expect(original.status).toBe(200);
    expect(original.headers.get("content-length")).toBe(String(bytes.length));
    expect(original.headers.get("content-disposition")).toBe(
      'inline; filename="Holiday_photo_1_.png"',
    );
    expect(new Uint8Array(await original.arrayBuffer())).toEqual(bytes);

    const made = await app.request(`/v1/images/${source}/transform`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: "webp" }),
    });
    const derived = (await made.json()) as { id: string; byte_size: number };
    const file = await app.request(`/v1/images/${derived.id}/file`);
    expect(file.headers.get("content-length")).toBe(String(derived.byte_size));
    expect(file.headers.get("content-disposition")).toBe(
      `inline; filename="Holiday_photo_1_-${derived.id.slice(0, 8)}.webp"`,
    );
    expect((await file.arrayBuffer()).byteLength).toBe(derived.byte_size);

    // With its source deleted, a derived image is named after its own id.
    expect((await app.request(`/v1/images/${source}`, { method: "DELETE" })).status).toBe(204);
    const orphan = await app.request(`/v1/images/${derived.id}/file`);
    expect(orphan.headers.get("content-disposition")).toBe(
      `inline; filename="image-${derived.id.slice(0, 8)}.webp"`,
    );
  });
});
