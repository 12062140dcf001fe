import { expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { toBase64Url } from "../src/core/lib/encoding.ts";
import { issueAccessToken } from "../src/features/accounts/jwt.ts";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase, TEST_JWT_KEYS, TEST_PASSWORD } from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

type TokenJson = { access_token: string; token_type: string; expires_in: number };

async function login(app: App, email: string, password: string): Promise<string> {
  const res = await app.request("/v1/auth/token", json({ email, password }));
  expect(res.status).toBe(200);
  return ((await res.json()) as TokenJson).access_token;
}

async function uploadAs(app: App, token: string): Promise<string> {
  const form = new FormData();
  form.append("file", new File([await fixture("generated/landscape-240.webp")], "a.webp"));
  const res = await app.request("/v1/images", { method: "POST", body: form, ...bearer(token) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { images: { id: string }[] }).images[0]?.id as string;
}

async function expectUnauthorized(res: Response, invalidToken: boolean) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("www-authenticate")).toBe(
    invalidToken ? 'Bearer realm="pictor", error="invalid_token"' : 'Bearer realm="pictor"',
  );
  expect(await res.json()).toMatchObject({ status: 401, type: "/problems/unauthorized" });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

describeEachDatabase("accounts and tokens", (ctx) => {
  test("signup → 201 account; token by JSON, by `username`, and by the OAuth2 password form", async () => {
    const { rawApp: app } = ctx();
    const signup = await app.request(
      "/v1/auth/signup",
      json({ email: " Ada@Example.COM ", password: "analytical engine" }),
    );
    expect(signup.status).toBe(201);
    expect(signup.headers.get("location")).toBe("/v1/me");
    const user = (await signup.json()) as Record<string, unknown>;
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: "ada@example.com",
      role: "user",
      disabled_at: null,
      created_at: expect.any(String),
    });

    const bodies: [string, RequestInit][] = [
      ["json email", json({ email: "ada@example.com", password: "analytical engine" })],
      ["json username", json({ username: "ADA@example.com", password: "analytical engine" })],
      [
        "oauth2 form",
        {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          // What Swagger UI's Authorize dialog sends.
          body: new URLSearchParams({
            grant_type: "password",
            username: "ada@example.com",
            password: "analytical engine",
            scope: "",
            client_id: "",
          }).toString(),
        },
      ],
    ];
    for (const [name, init] of bodies) {
      const res = await app.request("/v1/auth/token", init);
      expect([name, res.status]).toEqual([name, 200]);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const token = (await res.json()) as TokenJson;
      expect(token).toEqual({
        access_token: expect.any(String),
        token_type: "bearer",
        expires_in: 3600,
      });
      const me = await app.request("/v1/me", bearer(token.access_token));
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        id: user.id,
        email: "ada@example.com",
        role: "user",
        via: "token",
        usage: { bytes: 0, images: 0, max_bytes: 10 * 1024 ** 3, max_images: 100_000 },
      });
    }
  });

  test("the OpenAPI document declares the schemes; /docs' Authorize flow (OAuth2 password) logs in", async () => {
    const { rawApp: app, user } = ctx();
    const spec = (await (await app.request("/openapi.json")).json()) as {
      components: { securitySchemes: Record<string, Record<string, unknown>> };
      security: unknown;
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(spec.components.securitySchemes).toEqual({
      oauth2: expect.objectContaining({
        type: "oauth2",
        flows: { password: { tokenUrl: "/v1/auth/token", scopes: {} } },
      }),
      bearer: expect.objectContaining({ type: "http", scheme: "bearer" }),
      apiKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-API-Key" }),
    });
    expect(spec.security).toEqual([{ oauth2: [] }, { bearer: [] }, { apiKey: [] }]);
    expect(spec.paths["/v1/me"]?.get?.security).toEqual(spec.security);

    // Exactly what Swagger UI's authorizePassword sends (swagger-ui-bundle.js): a form with an
    // empty scope, to the tokenUrl, with its Accept and X-Requested-With headers, and by default
    // (client credentials location "basic") the empty client id and secret as Basic credentials.
    const tokenUrl = (
      spec.components.securitySchemes.oauth2 as { flows: { password: { tokenUrl: string } } }
    ).flows.password.tokenUrl;
    const res = await app.request(tokenUrl, {
      method: "POST",
      headers: {
        Accept: "application/json, text/plain, */*",
        Authorization: `Basic ${btoa(":")}`,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Requested-With": "XMLHttpRequest",
      },
      body: `grant_type=password&scope=&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(TEST_PASSWORD)}`,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenJson & { error?: unknown };
    expect(body.error).toBeUndefined(); // Swagger UI treats an `error` member as a failure
    expect((await app.request("/v1/me", bearer(body.access_token))).status).toBe(200);
  });

  test("a second signup with the same email (any case) is 409; weak passwords and bad emails 422", async () => {
    const { rawApp: app } = ctx();
    const first = await app.request(
      "/v1/auth/signup",
      json({ email: "grace@example.com", password: "compiler pioneer" }),
    );
    expect(first.status).toBe(201);
    const again = await app.request(
      "/v1/auth/signup",
      json({ email: "GRACE@example.com", password: "another long one" }),
    );
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      type: "/problems/conflict",
      detail: "An account with the email grace@example.com already exists",
    });
    for (const [body, path, detail] of [
      [{ email: "x@example.com", password: "short" }, "json.password", "received 5"],
      [{ email: "x@example.com", password: "password1234" }, "json.password", "most common"],
      [{ email: "not-an-email", password: "a long passphrase" }, "json.email", "email"],
      [{ email: "x@example.com" }, "json.password", "password"],
    ] as const) {
      const res = await app.request("/v1/auth/signup", json(body));
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { detail: string; errors: { path: string }[] };
      expect(problem.errors[0]?.path).toBe(path);
      expect(problem.detail).toContain(detail);
    }
    const [row] = await ctx().db
      .sql`SELECT count(*)::int AS n FROM users WHERE email = 'x@example.com'`;
    expect(row?.n).toBe(0);
  });

  test("a wrong password and an unknown email get byte-identical answers, in similar time", async () => {
    const { rawApp: app, user } = ctx();
    const attempt = (email: string) =>
      app.request(
        "/v1/auth/token",
        json({ email, password: "not the password" }, { "X-Request-Id": "same-id" }),
      );
    const wrong = await attempt(user.email);
    const unknown = await attempt("nobody@example.com");
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(400);
    // Same request id sent, so the whole body must match, byte for byte, and the headers too.
    const wrongBytes = new Uint8Array(await wrong.arrayBuffer());
    expect(new Uint8Array(await unknown.arrayBuffer())).toEqual(wrongBytes);
    expect(JSON.parse(new TextDecoder().decode(wrongBytes))).toEqual({
      type: "/problems/invalid-grant",
      title: "Invalid grant",
      status: 400,
      detail: "Incorrect email or password",
      request_id: "same-id",
      error: "invalid_grant",
      error_description: "Incorrect email or password",
    });
    expect([...unknown.headers]).toEqual([...wrong.headers]);

    // Both run one argon2 verification: an unknown email is not answered early.
    const times = { wrong: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const [kind, email] of [
        ["wrong", user.email],
        ["unknown", `nobody-${i}@example.com`],
      ] as const) {
        const started = performance.now();
        expect((await attempt(email)).status).toBe(400);
        times[kind].push(performance.now() - started);
      }
    }
    const ratio = median(times.unknown) / median(times.wrong);
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  test("tampered, unsigned, expired, foreign-key and unknown-key tokens are 401; a rotated-out key still works", async () => {
    const { rawApp: app, user } = ctx();
    const [signing, older] = TEST_JWT_KEYS as [
      (typeof TEST_JWT_KEYS)[0],
      (typeof TEST_JWT_KEYS)[0],
    ];
    const { token, claims } = await issueAccessToken(signing, user.id, 3600);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const b64 = (v: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(v)));
    const other = await ctx().createUser();
    const cases: Record<string, string> = {
      "payload changed (another user's id)": `${header}.${b64({ ...claims, sub: other.id })}.${signature}`,
      "payload changed (later expiry)": `${header}.${b64({ ...claims, exp: claims.exp + 1e6 })}.${signature}`,
      "alg none": `${b64({ alg: "none", typ: "JWT", kid: signing.kid })}.${payload}.`,
      "alg HS512": await sign(
        claims,
        {
          kty: "oct",
          k: toBase64Url(new TextEncoder().encode(signing.secret)),
          alg: "HS512",
          kid: signing.kid,
        },
        "HS512",
      ),
      expired: (await issueAccessToken(signing, user.id, 60, Date.now() - 7_200_000)).token,
      "wrong key": (
        await issueAccessToken(
          { kid: signing.kid, secret: "not-the-server-secret-0123456789abcdef" },
          user.id,
          3600,
        )
      ).token,
      "unknown key id": (
        await issueAccessToken({ kid: "test-9", secret: signing.secret }, user.id, 3600)
      ).token,
      "unknown user": (await issueAccessToken(signing, crypto.randomUUID(), 3600)).token,
      garbage: "garbage",
    };
    for (const [name, bad] of Object.entries(cases)) {
      const res = await app.request("/v1/me", bearer(bad));
      expect([name, res.status]).toEqual([name, 401]);
      await expectUnauthorized(res, true);
    }
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer", `Token ${token}`]) {
      const res = await app.request("/v1/me", { headers: { Authorization: authorization } });
      await expectUnauthorized(res, true);
    }
    await expectUnauthorized(await app.request("/v1/me"), false);

    expect((await app.request("/v1/me", bearer(token))).status).toBe(200);
    const rotated = (await issueAccessToken(older, user.id, 3600)).token;
    expect((await app.request("/v1/me", bearer(rotated))).status).toBe(200);
  });

  test("a password change needs the current password; older tokens stop, the new one works", async () => {
    const { rawApp: app, clock } = ctx();
    // Tokens are refused by the second they were issued in: this one was issued two seconds ago.
    clock.advance(-2000);
    const someone = await ctx().createUser();
    clock.advance(2000);
    const before = someone.token;
    const change = (token: string, body: unknown) =>
      app.request("/v1/me/password", json(body, { Authorization: `Bearer ${token}` }));

    const wrong = await change(before, {
      current_password: "not it at all",
      new_password: "x".repeat(20),
    });
    expect(wrong.status).toBe(403);
    const weak = await change(before, {
      current_password: TEST_PASSWORD,
      new_password: "password1234",
    });
    expect(weak.status).toBe(422);

    const ok = await change(before, {
      current_password: TEST_PASSWORD,
      new_password: "a brand new passphrase",
    });
    expect(ok.status).toBe(200);
    const fresh = ((await ok.json()) as TokenJson).access_token;
    await expectUnauthorized(await app.request("/v1/me", bearer(before)), true);
    expect((await app.request("/v1/me", bearer(fresh))).status).toBe(200);
    expect(
      (await app.request("/v1/auth/token", json({ email: someone.email, password: TEST_PASSWORD })))
        .status,
    ).toBe(400);
    await login(app, someone.email, "a brand new passphrase");
  });

  test("API keys: shown once, listed by prefix, work in X-API-Key and Bearer, revoked at once", async () => {
    const { rawApp: app } = ctx();
    const owner = await ctx().createUser();
    const create = await owner.app.request("/v1/api-keys", json({ name: "nightly backup" }));
    expect(create.status).toBe(201);
    const created = (await create.json()) as {
      id: string;
      key: string;
      prefix: string;
      name: string;
      expires_at: string | null;
    };
    expect(created.key).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    expect(created).toMatchObject({ name: "nightly backup", expires_at: null });
    expect(create.headers.get("location")).toBe(`/v1/api-keys/${created.id}`);

    const list = (await (await owner.app.request("/v1/api-keys")).json()) as {
      items: Record<string, unknown>[];
    };
    expect(list.items).toEqual([
      {
        id: created.id,
        name: "nightly backup",
        prefix: created.prefix,
        created_at: expect.any(String),
        expires_at: null,
      },
    ]);

    for (const headers of <Record<string, string>[]>[
      { "X-API-Key": created.key },
      { Authorization: `Bearer ${created.key}` },
    ]) {
      const me = await app.request("/v1/me", { headers });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ id: owner.id, via: "api_key" });
    }
    const id = await uploadAs(app, created.key);
    expect(
      (await app.request(`/v1/images/${id}`, { headers: { "X-API-Key": created.key } })).status,
    ).toBe(200);

    // A key cannot mint keys or change the password: that takes a login.
    const minted = await app.request(
      "/v1/api-keys",
      json({ name: "escalation" }, { "X-API-Key": created.key }),
    );
    expect(minted.status).toBe(403);

    expect(
      (await owner.app.request(`/v1/api-keys/${created.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    await expectUnauthorized(
      await app.request("/v1/me", { headers: { "X-API-Key": created.key } }),
      true,
    );
    expect(
      (await owner.app.request(`/v1/api-keys/${created.id}`, { method: "DELETE" })).status,
    ).toBe(404);
    expect(
      ((await (await owner.app.request("/v1/api-keys")).json()) as { items: unknown[] }).items,
    ).toEqual([]);
  });

  test("API keys with an expiry stop working when it passes; an expiry in the past is refused", async () => {
    const { rawApp: app, db } = ctx();
    const owner = await ctx().createUser();
    const past = await owner.app.request(
      "/v1/api-keys",
      json({ name: "late", expires_at: new Date(Date.now() - 1000).toISOString() }),
    );
    expect(past.status).toBe(422);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const res = await owner.app.request(
      "/v1/api-keys",
      json({ name: "short-lived", expires_at: soon }),
    );
    expect(res.status).toBe(201);
    const { id, key, expires_at } = (await res.json()) as {
      id: string;
      key: string;
      expires_at: string;
    };
    expect(expires_at).toBe(soon);
    expect((await app.request("/v1/me", { headers: { "X-API-Key": key } })).status).toBe(200);
    // Let the hour pass.
    await db.sql`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ${id}`;
    await expectUnauthorized(await app.request("/v1/me", { headers: { "X-API-Key": key } }), true);
  });

  test("admins list and disable accounts: the user's tokens and keys stop at once, and work again when enabled", async () => {
    const { rawApp: app, user } = ctx();
    const admin = await ctx().createUser({ role: "admin" });
    const victim = await ctx().createUser();
    const keyRes = await victim.app.request("/v1/api-keys", json({ name: "k" }));
    const { key } = (await keyRes.json()) as { key: string };
    const imageId = await uploadAs(app, victim.token);

    const forbidden = await user.app.request("/v1/admin/users");
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ detail: "This needs the admin role" });

    const page = (await (await admin.app.request("/v1/admin/users?limit=100")).json()) as {
      items: { id: string; email: string; role: string }[];
    };
    expect(page.items.map((u) => u.id)).toEqual(
      expect.arrayContaining([user.id, admin.id, victim.id]),
    );
    expect(page.items.find((u) => u.id === admin.id)?.role).toBe("admin");

    // Admins read any resource.
    expect((await admin.app.request(`/v1/images/${imageId}`)).status).toBe(200);

    const patch = (id: string, body: unknown) =>
      admin.app.request(`/v1/admin/users/${id}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const disabled = await patch(victim.id, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ id: victim.id, disabled_at: expect.any(String) });
    await expectUnauthorized(await app.request("/v1/me", bearer(victim.token)), true);
    await expectUnauthorized(await app.request("/v1/me", { headers: { "X-API-Key": key } }), true);
    const relogin = await app.request(
      "/v1/auth/token",
      json({ email: victim.email, password: TEST_PASSWORD }, { "X-Request-Id": "r" }),
    );
    const wrong = await app.request(
      "/v1/auth/token",
      json({ email: victim.email, password: "not the password" }, { "X-Request-Id": "r" }),
    );
    // The password proven, the refusal says why; without it, nothing tells a disabled account.
    expect(relogin.status).toBe(400);
    expect(await relogin.json()).toMatchObject({
      error: "invalid_grant",
      error_description: "This account is disabled; ask an admin to enable it",
    });
    expect(await wrong.json()).toMatchObject({ error_description: "Incorrect email or password" });

    expect((await patch(victim.id, { disabled: false })).status).toBe(200);
    expect((await app.request("/v1/me", bearer(victim.token))).status).toBe(200);
    expect((await app.request("/v1/me", { headers: { "X-API-Key": key } })).status).toBe(200);

    const self = await patch(admin.id, { disabled: true });
    expect(self.status).toBe(409);
    expect((await patch(admin.id, { role: "user" })).status).toBe(409);
    expect((await patch(crypto.randomUUID(), { disabled: true })).status).toBe(404);

    const promoted = await patch(victim.id, { role: "admin" });
    expect(await promoted.json()).toMatchObject({ role: "admin" });
    expect((await victim.app.request("/v1/admin/users")).status).toBe(200);
  });

  test("password hashes are argon2id; API keys and passwords appear in no column and no log line", async () => {
    const { db, logs, rawApp: app } = ctx();
    const owner = await ctx().createUser();
    const res = await owner.app.request("/v1/api-keys", json({ name: "secret scan" }));
    const { key } = (await res.json()) as { key: string };
    expect((await app.request("/v1/me", { headers: { "X-API-Key": key } })).status).toBe(200);

    const hashes = await db.sql<{ password_hash: string }[]>`SELECT password_hash FROM users`;
    expect(hashes.length).toBeGreaterThan(3);
    for (const { password_hash } of hashes) {
      expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    }

    const columns = await db.sql<{ table_name: string; column_name: string; data_type: string }[]>`
      SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema()
        AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb', 'ARRAY')`;
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(["api_keys.key_hash", "api_keys.prefix", "users.password_hash"]),
    );
    const secrets = [key, key.slice(3), TEST_PASSWORD];
    for (const { table_name, column_name, data_type } of columns) {
      for (const secret of secrets) {
        const found =
          data_type === "bytea"
            ? await db.sql`SELECT 1 FROM ${db.sql(table_name)}
                WHERE position(convert_to(${secret}, 'UTF8') IN ${db.sql(column_name)}) > 0 LIMIT 1`
            : await db.sql`SELECT 1 FROM ${db.sql(table_name)}
                WHERE strpos(${db.sql(column_name)}::text, ${secret}) > 0 LIMIT 1`;
        expect([table_name, column_name, found.length]).toEqual([table_name, column_name, 0]);
      }
    }
    expect(logs.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(logs.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});

describeEachDatabase(
  "accounts without JWT_KEYS",
  (ctx) => {
    test("a signing key is generated once, kept in the database, and its tokens verify", async () => {
      const { rawApp: app, db, user, logs } = ctx();
      expect((await app.request("/v1/me", bearer(user.token))).status).toBe(200);
      const keys = await db.sql<
        { kid: string; secret: string }[]
      >`SELECT kid, secret FROM signing_keys`;
      expect(keys.map((k) => k.kid)).toEqual(["generated-1"]);
      expect(keys[0]?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const [header] = user.token.split(".");
      expect(JSON.parse(atob(header as string))).toMatchObject({
        alg: "HS256",
        kid: "generated-1",
      });
      expect(logs.some((l) => JSON.parse(l).msg.startsWith("JWT_KEYS is not set"))).toBe(true);
      // A token signed with the configured test keys means nothing here.
      const foreign = (
        await issueAccessToken(TEST_JWT_KEYS[0] as (typeof TEST_JWT_KEYS)[0], user.id, 60)
      ).token;
      expect((await app.request("/v1/me", bearer(foreign))).status).toBe(401);
    });
  },
  {},
  { auth: { jwtKeys: [] } },
);
