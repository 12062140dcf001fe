import { describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { toBase64Url } from "../../src/core/lib/encoding.ts";
import { issueAccessToken, verifyAccessToken } from "../../src/features/accounts/jwt.ts";

const current = { kid: "k2", secret: "current-secret-0123456789abcdefghijkl" };
const previous = { kid: "k1", secret: "previous-secret-0123456789abcdefghijk" };
const keys = [current, previous];
const user = "019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b";

const b64 = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));
const parts = (token: string) => token.split(".") as [string, string, string];
const jwk = (key: { kid: string; secret: string }) => ({
  kty: "oct",
  k: toBase64Url(new TextEncoder().encode(key.secret)),
  alg: "HS256",
  kid: key.kid,
});

describe("access tokens", () => {
  test("a token carries sub, iat, exp, jti and the signing key's id, and verifies", async () => {
    const now = Date.now();
    const { token, claims } = await issueAccessToken(current, user, 3600, now);
    const [header] = parts(token);
    expect(JSON.parse(atob(header.replaceAll("-", "+").replaceAll("_", "/")))).toEqual({
      alg: "HS256",
      typ: "JWT",
      kid: "k2",
    });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims.iat).toBe(Math.floor(now / 1000));
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(await verifyAccessToken(token, keys)).toEqual(claims);
  });

  test("a token of a key being rotated out still verifies while the key is listed", async () => {
    const { token } = await issueAccessToken(previous, user, 60);
    expect((await verifyAccessToken(token, keys))?.kid).toBe("k1");
    expect(await verifyAccessToken(token, [current])).toBeNull();
  });

  test("issue and expiry are checked against the clock the caller passes, to the second", async () => {
    const issuedAt = Date.UTC(2031, 0, 1, 12, 0, 0, 500);
    const { token, claims } = await issueAccessToken(current, user, 60, issuedAt);
    // Far from the system's time, as a test clock may be: only the passed clock counts.
    expect(await verifyAccessToken(token, keys, issuedAt)).toEqual(claims);
    expect(await verifyAccessToken(token, keys, issuedAt + 59_499)).toEqual(claims);
    expect(await verifyAccessToken(token, keys, issuedAt + 59_500)).toBeNull();
    expect(await verifyAccessToken(token, keys, issuedAt - 501)).toBeNull();
    expect(await verifyAccessToken(token, keys)).toBeNull();
  });

  test("tampered, unsigned, expired, foreign and malformed tokens are refused", async () => {
    const { token, claims } = await issueAccessToken(current, user, 3600);
    const [header, payload, signature] = parts(token);
    const other = "019aa3f2-6b1e-7000-8a4f-000000000000";
    const cases: Record<string, string> = {
      "payload changed, signature kept": `${header}.${b64({ ...claims, sub: other })}.${signature}`,
      "signature changed": `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`,
      "no signature": `${header}.${payload}.`,
      "alg none": `${b64({ alg: "none", typ: "JWT", kid: "k2" })}.${payload}.`,
      "alg none, signature kept": `${b64({ alg: "none", typ: "JWT", kid: "k2" })}.${payload}.${signature}`,
      "alg HS512 with the right secret": await sign(
        claims,
        { ...jwk(current), alg: "HS512" },
        "HS512",
      ),
      expired: (await issueAccessToken(current, user, 60, Date.now() - 3_600_000)).token,
      "wrong key under a known kid": (
        await issueAccessToken(
          { kid: "k2", secret: "an-attackers-secret-0123456789abcdef" },
          user,
          60,
        )
      ).token,
      "unknown kid": (await issueAccessToken({ kid: "k9", secret: current.secret }, user, 60))
        .token,
      "no kid": await sign({ ...claims }, current.secret, "HS256"),
      "issued in the future": (await issueAccessToken(current, user, 60, Date.now() + 600_000))
        .token,
      "no jti": await sign({ sub: user, iat: claims.iat, exp: claims.exp }, jwk(current)),
      "no exp": await sign({ sub: user, iat: claims.iat, jti: "x" }, jwk(current)),
      "not a JWT": "not-a-token",
      "four parts": `${token}.extra`,
      empty: "",
    };
    for (const [name, bad] of Object.entries(cases)) {
      expect([name, await verifyAccessToken(bad, keys)]).toEqual([name, null]);
    }
  });
});
