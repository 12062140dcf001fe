import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserAvailable, launchBrowser } from "./support/browser.ts";
import { seedServerDataDir } from "./support/database.ts";
import { type RunningServer, spawnServer } from "./support/server.ts";

const photos = ["Landscape_1.jpg", "Portrait_1.jpg", "Landscape_3.jpg"].map(
  (name) => new URL(`fixtures/exif-orientation/${name}`, import.meta.url).pathname,
);
const PASSWORD = "a long walking passphrase";
// WEB_SCREENSHOTS=docs/images saves the README's screenshots from this run.
const shots = process.env.WEB_SCREENSHOTS;

/** Every console error and uncaught exception of `page`, as text. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
  return errors;
}

async function screenshot(page: Page, name: string) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, name), await page.screenshot({ fullPage: false }));
}

async function signUp(page: Page, url: string, email: string) {
  await page.goto(`${url}/signup`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(`${url}/`);
}

(browserAvailable ? describe : describe.skip)("the web app in Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pictor-web-"));
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    await seedServerDataDir(dataDir);
    server = await spawnServer({ DATA_DIR: dataDir });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.proc.kill("SIGTERM");
    await server?.proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function freshPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    return { context, page, errors: watchErrors(page) };
  }

  test("sign up → upload three photos → edit, save, histogram, segmentation → a job to 100 % → log out, without a console error", async () => {
    const { url } = server;
    const { context, page, errors } = await freshPage();
    try {
      // Signed out, / is the login page; sign up through the form.
      await page.goto(`${url}/`);
      expect(page.url()).toBe(`${url}/login`);
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.waitForURL(`${url}/signup`);
      await signUp(page, url, "walker@example.com");
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({
        name: "pictor_session",
        httpOnly: true,
        sameSite: "Lax",
        secure: false,
        expires: -1,
      });

      // Three real photos through the file input: a progress bar each, then the thumbnails.
      await page.getByLabel("Choose files to upload").setInputFiles(photos);
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll("#uploads .msg")].filter((m) => m.textContent === "Stored")
            .length === 3,
      );
      expect(
        await page
          .locator("#uploads progress")
          .evaluateAll((bars) => bars.map((b) => (b as HTMLProgressElement).value)),
      ).toEqual([100, 100, 100]);
      await page.waitForFunction(() => {
        const thumbs = [...document.querySelectorAll<HTMLImageElement>("#gallery .card img")];
        return thumbs.length === 3 && thumbs.every((img) => img.complete && img.naturalWidth > 0);
      });

      // One image: change the width, the preview follows; save it as a new image.
      await page.locator("#gallery .card a").first().click();
      await page.waitForURL(/\/images\/[0-9a-f-]{36}$/);
      await page.getByLabel("Width", { exact: true }).fill("300");
      await page.waitForFunction(() => {
        const preview = document.querySelector<HTMLImageElement>("#preview");
        return preview?.src.includes("w=300") && preview.complete && preview.naturalWidth === 300;
      });
      await page.getByRole("button", { name: "Save as new image" }).click();
      await page.locator("#saved-link").waitFor();
      expect(await page.locator("#saved").textContent()).toContain("300 ×");

      // The histogram (inline SVG, three RGB curves, then Lab) and the palette.
      await page.waitForFunction(
        () => document.querySelectorAll("#histogram svg polyline").length === 3,
      );
      await page.getByLabel("Colour space").selectOption("lab");
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>("#histogram")?.dataset.space === "lab",
      );
      await page.waitForFunction(() => document.querySelectorAll("#palette .swatch").length > 0);

      // Segmentation: overlay and cutout load, the regions fill the table.
      await page.getByRole("button", { name: "Segment" }).click();
      await page.waitForFunction(() =>
        ["#overlay", "#cutout"].every((s) => {
          const img = document.querySelector<HTMLImageElement>(s);
          return img?.complete && img.naturalWidth > 0;
        }),
      );
      expect(await page.locator("#regions tr").count()).toBeGreaterThan(0);
      expect(await page.locator("#mask-link").getAttribute("href")).toMatch(/kind=binary$/);
      await page
        .locator("#histogram")
        .evaluate((chart) => chart.closest("section")?.scrollIntoView());
      await screenshot(page, "web-image.png");

      // Two images, one job: the progress bar reaches 100 % and results.zip appears.
      await page.getByRole("link", { name: "Gallery" }).click();
      await page.waitForURL(`${url}/`);
      const boxes = page.locator("#gallery input[name=image]");
      await boxes.nth(1).check();
      await boxes.nth(2).check();
      await page.locator("#gallery").scrollIntoViewIfNeeded();
      await screenshot(page, "web-gallery.png");
      await page.getByLabel("Run a job over the chosen images").selectOption({ index: 0 });
      await page.getByRole("button", { name: "Start job" }).click();
      await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
      await page.waitForFunction(
        () => document.querySelector<HTMLProgressElement>("#job-progress")?.value === 100,
      );
      await page.locator("#results-link").waitFor({ state: "visible" });
      expect(await page.locator("#job-percent").textContent()).toBe("100 %");
      const zip = await context.request.get(
        `${url}${await page.locator("#results-link").getAttribute("href")}`,
      );
      expect(zip.status()).toBe(200);
      expect(zip.headers()["content-type"]).toBe("application/zip");
      await screenshot(page, "web-job.png");

      await page.getByRole("link", { name: "Jobs" }).click();
      expect(await page.locator("tbody tr").count()).toBe(1);
      expect(await page.locator("tbody tr .status").textContent()).toBe("succeeded");

      // Log out: the cookie is gone, and the old one proves nothing any more.
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(`${url}/login`);
      expect(await context.cookies()).toEqual([]);
      const replayed = await fetch(`${url}/v1/images`, {
        headers: { Cookie: `pictor_session=${cookie?.value}` },
      });
      expect(replayed.status).toBe(401);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test("a wrong password, a text file among photos, a delete and API keys: readable messages, no console error", async () => {
    const { url } = server;
    const { context, page, errors } = await freshPage();
    try {
      await page.goto(`${url}/login`);
      await page.getByLabel("Email").fill("nobody@example.com");
      await page.getByLabel("Password").fill("not the right passphrase");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page.getByRole("alert").textContent()).resolves.toBe(
        "Incorrect email or password",
      );
      expect(await page.getByLabel("Email").inputValue()).toBe("nobody@example.com");
      // The 401 of the form itself is the one console line a wrong password leaves.
      expect(errors.splice(0)).toEqual([
        "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
      ]);

      // A photo and a text file dropped on the gallery: one request, a 207, the refusal next
      // to the file's name. A phone-width screen scrolls no sideways.
      await signUp(page, url, "texter@example.com");
      await page.setViewportSize({ width: 390, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      );
      const photo = readFileSync(photos[0] as string).toString("base64");
      const dropped = await page.evaluateHandle((base64) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], "Landscape_1.jpg", { type: "image/jpeg" }));
        transfer.items.add(
          new File(["not a picture at all\n"], "notes.txt", { type: "text/plain" }),
        );
        return transfer;
      }, photo);
      await page.dispatchEvent("#drop-zone", "drop", { dataTransfer: dropped });
      const refused = page.locator("#uploads li", { hasText: "notes.txt" }).locator(".msg.error");
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(/^Unsupported media type: .+/);
      expect(
        await page
          .locator("#uploads li", { hasText: "Landscape_1.jpg" })
          .locator(".msg")
          .textContent(),
      ).toBe("Stored");
      await page.locator("#gallery .card").first().waitFor();

      // Delete, once confirmed.
      page.once("dialog", (dialog) => dialog.accept());
      await page.getByRole("button", { name: "Delete" }).click();
      await page.locator("#gallery .card").waitFor({ state: "detached" });

      // Settings: a key shown once, listed, revoked; the email preference saved.
      await page.getByRole("link", { name: "Settings" }).click();
      await page.getByLabel("Name").fill("laptop script");
      await page.getByRole("button", { name: "Create key" }).click();
      const key = (await page.locator("#new-key").textContent()) ?? "";
      const me = await fetch(`${url}/v1/me`, { headers: { "X-API-Key": key } });
      expect(me.status).toBe(200);
      await page.reload();
      expect(await page.locator("#keys tr").count()).toBe(1);
      expect(await page.locator("#new-key").count()).toBe(0);
      page.once("dialog", (dialog) => dialog.accept());
      await page.getByRole("button", { name: "Revoke" }).click();
      await page.locator("#keys tr").waitFor({ state: "detached" });
      expect((await fetch(`${url}/v1/me`, { headers: { "X-API-Key": key } })).status).toBe(401);
      await page.getByLabel("Job emails").selectOption("failure");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Saved: job emails failure").waitFor();
      await page.reload();
      expect(await page.getByLabel("Job emails").inputValue()).toBe("failure");
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
