import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestEnv, postgresAvailable, type TestEnv } from "./support/database.ts";
import { noisePng } from "./support/fixtures.ts";

const run = postgresAvailable ? describe : describe.skip;

// S3_DOWNLOADS=redirect: the bytes of /file come from the bucket itself, not through the API.
run("direct downloads from the bucket [s3]", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv("s3", { directDownloads: { ttlSeconds: 60 } });
  });
  afterAll(() => env?.close());

  test("/file answers 302 to a presigned URL that serves the bytes with their type and name", async () => {
    const png = noisePng(64 * 1024);
    const form = new FormData();
    form.append("file", new File([png], "noise.png"));
    const uploaded = await env.app.request("/v1/images", { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    const [image] = ((await uploaded.json()) as { images: { id: string; sha256: string }[] })
      .images;

    const res = await env.app.request(`/v1/images/${image?.id}/file`);
    expect(res.status).toBe(302);
    const location = res.headers.get("location") ?? "";
    expect(location).toContain("X-Amz-Signature=");
    expect(location).toContain("X-Amz-Expires=60");
    // Straight to the bucket, without the API's credentials.
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(direct.headers.get("content-type")).toBe("image/png");
    expect(direct.headers.get("content-disposition")).toBe('inline; filename="noise.png"');
    expect(new Uint8Array(await direct.arrayBuffer())).toEqual(png);
    // Conditional requests are still the API's: a current ETag is a 304, not a redirect.
    const cached = await env.app.request(`/v1/images/${image?.id}/file`, {
      headers: { "If-None-Match": `"${image?.sha256}"` },
    });
    expect(cached.status).toBe(304);
  });
});
