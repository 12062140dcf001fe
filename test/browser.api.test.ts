import { afterAll, expect, test } from "bun:test";
import { seededPng, THUMBNAIL } from "./jobs/helpers.ts";
import { browserAvailable, launchBrowser } from "./support/browser.ts";
import { describeEachDatabase, type TestUser } from "./support/database.ts";

// The page's own origin, another port than the API's: what a web app on its own host is.
let page = "<!doctype html><title>empty</title>";
const pageServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response(page, { headers: { "Content-Type": "text/html; charset=utf-8" } }),
});
const PAGE_ORIGIN = pageServer.url.origin;
afterAll(() => pageServer.stop(true));

const post = (body: unknown) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

async function sign(user: TestUser, path: string): Promise<string> {
  const res = await user.app.request("/v1/signed-urls", post({ path, expires_in: 600 }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

describeEachDatabase(
  "in a real browser (headless Chromium), a page on another origin",
  (ctx) => {
    test.skipIf(!browserAvailable)(
      "shows a signed render in <img>, follows a signed job event stream to `done`, and calls the API with fetch (CORS)",
      async () => {
        const { user, rawApp } = ctx();
        const api = Bun.serve({
          hostname: "127.0.0.1",
          port: 0,
          idleTimeout: 30,
          fetch: (request, server) =>
            rawApp.fetch(request, { clientAddress: server.requestIP(request)?.address }),
        });
        const browser = await launchBrowser();
        try {
          const form = new FormData();
          form.append("file", new File([seededPng(11, 128)], "page.png"));
          const uploaded = await user.app.request("/v1/images", { method: "POST", body: form });
          const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id;
          const submitted = await user.app.request(
            "/v1/jobs",
            post({ image_ids: [id], task: THUMBNAIL }),
          );
          const job = ((await submitted.json()) as { id: string }).id;
          // PUBLIC_URL of the test services is https://pictor.test: here the API is on its port.
          const onApi = (url: string) => url.replace("https://pictor.test", api.url.origin);
          const render = onApi(await sign(user, `/v1/images/${id}/render?w=64&format=webp`));
          const events = onApi(await sign(user, `/v1/jobs/${job}/events`));
          page = `<!doctype html>
<meta charset="utf-8"><title>Pictor from a web page</title>
<img id="pic" alt="" src="${render}">
<script>
  window.result = { done: null, me: null, error: null };
  const stream = new EventSource(${JSON.stringify(events)});
  stream.addEventListener("done", (e) => { window.result.done = JSON.parse(e.data); stream.close(); });
  fetch(${JSON.stringify(`${api.url.origin}/v1/me`)}, {
    headers: { Authorization: ${JSON.stringify(`Bearer ${user.token}`)} },
  })
    .then((r) => r.json())
    .then((me) => { window.result.me = me.id; }, (e) => { window.result.error = String(e); });
</script>`;
          const tab = await browser.newPage();
          await tab.goto(`${PAGE_ORIGIN}/`);
          await tab.waitForFunction(
            () => {
              const img = document.getElementById("pic") as HTMLImageElement;
              const r = (window as unknown as { result: { done: unknown; me: unknown } }).result;
              return img.complete && r.done !== null && r.me !== null;
            },
            undefined,
            { timeout: 30_000 },
          );
          const seen = await tab.evaluate(() => ({
            width: (document.getElementById("pic") as HTMLImageElement).naturalWidth,
            result: (window as unknown as { result: unknown }).result,
          }));
          expect(seen).toEqual({
            width: 64,
            result: {
              done: expect.objectContaining({ status: "succeeded" }),
              me: user.id,
              error: null,
            },
          });
        } finally {
          await browser.close();
          api.stop(true);
        }
      },
      60_000,
    );
  },
  {},
  { start: true, rateLimits: { requests: 0 }, delivery: { corsOrigins: [PAGE_ORIGIN] } },
);
