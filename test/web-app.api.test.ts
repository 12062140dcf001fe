import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase, type TestUser } from "./support/database.ts";
import { fixture, makePng } from "./support/fixtures.ts";

const ORIGIN = "http://localhost";

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** Logs `user` in through the form: the session cookie as a Cookie header value. */
async function logIn(app: App, user: TestUser): Promise<string> {
  const res = await app.request("/login", form({ email: user.email, password: user.password }));
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/");
  const cookie = res.headers.get("set-cookie") ?? "";
  return cookie.split(";")[0] as string;
}

describeEachDatabase("web app: pages and the session cookie", (ctx) => {
  test("a visitor is sent to /login; the forms use email and password inputs and the page policy", async () => {
    const { rawApp } = ctx();
    for (const path of [
      "/",
      "/jobs",
      "/settings",
      "/images/01a235d1-f064-7000-ae09-132d1cbfdade",
    ]) {
      const res = await rawApp.request(path);
      expect([path, res.status, res.headers.get("location")]).toEqual([path, 302, "/login"]);
    }
    const login = await rawApp.request("/login");
    expect(login.status).toBe(200);
    expect(login.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await login.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('type="email"');
    expect(html).toContain('type="password"');
    const signup = await (await rawApp.request("/signup")).text();
    expect(signup).toContain('autocomplete="new-password"');
  });

  test("log in: an HttpOnly, SameSite=Lax session cookie (Secure over https) that the API takes; a wrong password is the form again", async () => {
    const { rawApp, user } = ctx();
    const wrong = await rawApp.request(
      "/login",
      form({ email: user.email, password: "not the passphrase at all" }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toStartWith("text/html");
    const page = await wrong.text();
    expect(page).toContain("Incorrect email or password");
    expect(page).toContain(`value="${user.email}"`);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const ok = await rawApp.request("/login", form({ email: user.email, password: user.password }));
    const setCookie = ok.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^pictor_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const secure = await rawApp.request(
      "https://pictor.example/login",
      form({ email: user.email, password: user.password }, { Origin: "https://pictor.example" }),
    );
    expect(secure.headers.get("set-cookie")).toMatch(/; Secure/);

    const cookie = setCookie.split(";")[0] as string;
    const me = await rawApp.request("/v1/me", { headers: { Cookie: cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { via: string }).via).toBe("session");
    const gallery = await rawApp.request("/", { headers: { Cookie: cookie } });
    expect(gallery.status).toBe(200);
    expect(await gallery.text()).toContain(user.email);
  });

  test("a cross-site request with the cookie and no same-origin proof is refused (403); the same from the app's own page passes", async () => {
    const { rawApp, user } = ctx();
    const cookie = await logIn(rawApp, user);
    const attempts: Record<string, string>[] = [
      {},
      { Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site", Origin: "https://sub.localhost" },
    ];
    for (const headers of attempts) {
      for (const contentType of [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
      ]) {
        const res = await rawApp.request("/v1/api-keys", {
          method: "POST",
          headers: { Cookie: cookie, "Content-Type": contentType, ...headers },
          body: JSON.stringify({ name: "stolen" }),
        });
        expect([headers, contentType, res.status]).toEqual([headers, contentType, 403]);
        expect(((await res.json()) as { detail: string }).detail).toContain("Pictor's own pages");
      }
    }
    const keys = await rawApp.request("/v1/api-keys", { headers: { Cookie: cookie } });
    expect(((await keys.json()) as { items: unknown[] }).items).toEqual([]);

    const proofs: Record<string, string>[] = [
      { Origin: ORIGIN },
      { "Sec-Fetch-Site": "same-origin" },
    ];
    for (const proof of proofs) {
      const res = await rawApp.request("/v1/api-keys", {
        method: "POST",
        headers: { Cookie: cookie, "Content-Type": "application/json", ...proof },
        body: JSON.stringify({ name: "mine" }),
      });
      expect(res.status).toBe(201);
    }
    // A session cannot be planted either: the sign-in forms ask for the same proof.
    const planted = await rawApp.request(
      "/login",
      form({ email: user.email, password: user.password }, { Origin: "https://evil.example" }),
    );
    expect(planted.status).toBe(403);
    expect(planted.headers.get("set-cookie")).toBeNull();
  });

  test("sign up through the form; log out ends the session on the server", async () => {
    const { rawApp } = ctx();
    const short = await rawApp.request(
      "/signup",
      form({ email: "new@example.com", password: "short" }),
    );
    expect(short.status).toBe(422);
    expect(await short.text()).toContain("Expected a password of 12 to 1024 characters");
    const res = await rawApp.request(
      "/signup",
      form({ email: "new@example.com", password: "a long fresh passphrase" }),
    );
    expect(res.status).toBe(303);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect((await rawApp.request("/v1/me", { headers: { Cookie: cookie } })).status).toBe(200);

    const out = await rawApp.request("/logout", {
      method: "POST",
      headers: { Cookie: cookie, Origin: ORIGIN },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login");
    expect(out.headers.get("set-cookie")).toMatch(
      /^pictor_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    // The old cookie, kept by someone, proves nothing any more.
    expect((await rawApp.request("/v1/me", { headers: { Cookie: cookie } })).status).toBe(401);
    expect((await rawApp.request("/", { headers: { Cookie: cookie } })).status).toBe(302);
  });

  test("the gallery lists the user's own images as lazy render thumbnails; another user's image page is a 404 page", async () => {
    const { rawApp, user, createUser } = ctx();
    const upload = new FormData();
    upload.append("file", new File([await fixture("generated/landscape-240.webp")], "mine.webp"));
    const stored = await user.app.request("/v1/images", { method: "POST", body: upload });
    const id = ((await stored.json()) as { images: { id: string }[] }).images[0]?.id as string;
    const cookie = await logIn(rawApp, user);
    const html = await (await rawApp.request("/", { headers: { Cookie: cookie } })).text();
    expect(html).toContain(`src="/v1/images/${id}/render?w=320&amp;h=320&amp;fit=cover`);
    expect(html).toContain('loading="lazy"');
    const thumb = await rawApp.request(
      `/v1/images/${id}/render?w=320&h=320&fit=cover&format=jpeg&q=80`,
      {
        headers: { Cookie: cookie },
      },
    );
    expect(thumb.status).toBe(200);
    const imagePage = await rawApp.request(`/images/${id}`, { headers: { Cookie: cookie } });
    expect(await imagePage.text()).toContain("mine.webp");

    const other = await createUser();
    const otherCookie = await logIn(rawApp, other);
    const hidden = await rawApp.request(`/images/${id}`, { headers: { Cookie: otherCookie } });
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get("content-type")).toStartWith("text/html");
    expect(
      (await rawApp.request("/images/nope", { headers: { Cookie: otherCookie } })).status,
    ).toBe(404);
  });

  test("the gallery pages 48 at a time, newest first, with a link to the older ones", async () => {
    const { rawApp, createUser } = ctx();
    const owner = await createUser();
    const batch = new FormData();
    for (let i = 0; i < 50; i++) {
      batch.append("file", new File([makePng(4, 4, () => [i, 0, 0, 255])], `p${i}.png`));
    }
    expect((await owner.app.request("/v1/images", { method: "POST", body: batch })).status).toBe(
      201,
    );
    const cookie = await logIn(rawApp, owner);
    const first = await (await rawApp.request("/", { headers: { Cookie: cookie } })).text();
    const names = (html: string) => [...html.matchAll(/title="(p\d+\.png)"/g)].map((m) => m[1]);
    expect(names(first)).toEqual(Array.from({ length: 48 }, (_, i) => `p${49 - i}.png`));
    const older = first.match(/href="(\/\?cursor=[0-9a-f-]{36})"/)?.[1] as string;
    const second = await (await rawApp.request(older, { headers: { Cookie: cookie } })).text();
    expect(names(second)).toEqual(["p1.png", "p0.png"]);
    expect(second).not.toContain("Older images");
  });

  test("a password change ends the sessions", async () => {
    const { rawApp, createUser } = ctx();
    const someone = await createUser();
    const cookie = await logIn(rawApp, someone);
    const changed = await someone.app.request("/v1/me/password", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        current_password: someone.password,
        new_password: "another long passphrase",
      }),
    });
    expect(changed.status).toBe(200);
    expect((await rawApp.request("/v1/me", { headers: { Cookie: cookie } })).status).toBe(401);
  });
});
