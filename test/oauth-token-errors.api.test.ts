import { expect, test } from "bun:test";
import { describeEachDatabase, TEST_PASSWORD } from "./support/database.ts";

/** What Swagger UI's Authorize dialog sends: the OAuth2 password grant as a form. */
const passwordGrant = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

describeEachDatabase("OAuth2 token errors (RFC 6749 §5.2)", (ctx) => {
  test("wrong credentials are a 400 invalid_grant with the reason, beside the problem members, never cached", async () => {
    const { rawApp, user } = ctx();
    const res = await rawApp.request(
      "/v1/auth/token",
      passwordGrant({ grant_type: "password", username: user.email, password: "wrong password" }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      error: "invalid_grant",
      error_description: "Incorrect email or password",
      type: "/problems/invalid-grant",
      title: "Invalid grant",
      status: 400,
      detail: "Incorrect email or password",
      request_id: expect.any(String),
    });
  });

  test("a disabled account is told so only after its correct password", async () => {
    const { rawApp, db } = ctx();
    const victim = await ctx().createUser();
    await db.sql`UPDATE users SET disabled_at = now() WHERE id = ${victim.id}`;
    const attempt = async (password: string) =>
      (await (
        await rawApp.request(
          "/v1/auth/token",
          passwordGrant({ grant_type: "password", username: victim.email, password }),
        )
      ).json()) as { error: string; error_description: string };
    expect(await attempt(TEST_PASSWORD)).toMatchObject({
      error: "invalid_grant",
      error_description: "This account is disabled; ask an admin to enable it",
    });
    expect(await attempt("not the password")).toMatchObject({
      error: "invalid_grant",
      error_description: "Incorrect email or password",
    });
  });

  test("malformed token requests carry error and error_description too", async () => {
    const { rawApp } = ctx();
    const cases: [RequestInit, number, string, string][] = [
      [
        passwordGrant({
          grant_type: "client_credentials",
          username: "a@example.com",
          password: "x",
        }),
        422,
        "unsupported_grant_type",
        "form.grant_type: Expected password for grant_type",
      ],
      [passwordGrant({ password: "x" }), 422, "invalid_request", "form.username"],
      // Refused by the app-wide unknown-field check, before the route's own validation.
      [
        passwordGrant({ username: "a@example.com", password: "x", passwrd: "y" }),
        422,
        "invalid_request",
        "unknown field `passwrd`",
      ],
      [{ method: "POST", body: "x" }, 415, "invalid_request", "No Content-Type was sent"],
    ];
    for (const [init, status, error, description] of cases) {
      const res = await rawApp.request("/v1/auth/token", init);
      const body = (await res.json()) as { error: string; error_description: string };
      expect([res.status, body.error]).toEqual([status, error]);
      expect(body.error_description).toContain(description);
    }
  });
});
