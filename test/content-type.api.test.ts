import { expect, test } from "bun:test";
import { describeEachDatabase } from "./support/database.ts";

const ID = "00000000-0000-4000-8000-000000000000";

type Problem = { status: number; detail: string };

describeEachDatabase("Content-Type", (ctx) => {
  test("a JSON body without Content-Type or with the wrong one is told what to send", async () => {
    const { app } = ctx();
    const cases: [string, string, Record<string, string>, string][] = [
      [
        `/v1/images/${ID}/transform`,
        '{"format":"png"}',
        {},
        "No Content-Type was sent: send `Content-Type: application/json`",
      ],
      [
        `/v1/images/${ID}/transform`,
        '{"format":"png"}',
        { "Content-Type": "text/plain" },
        "This operation does not take `text/plain`: send `Content-Type: application/json`",
      ],
      [
        "/v1/webhooks",
        '{"url":"https://example.com"}',
        // What `curl -d` sends unless told otherwise.
        { "Content-Type": "application/x-www-form-urlencoded" },
        "This operation does not take `application/x-www-form-urlencoded`: send `Content-Type: application/json`",
      ],
      [
        "/v1/images",
        "{}",
        { "Content-Type": "application/json" },
        "This operation does not take `application/json`: send `Content-Type: multipart/form-data` with `file` parts (curl -F file=@photo.jpg)",
      ],
      [
        "/v1/jobs",
        "x",
        { "Content-Type": "text/plain" },
        "This operation does not take `text/plain`: send `Content-Type: application/json` or `Content-Type: multipart/form-data`",
      ],
      [
        "/v1/jobs",
        "x",
        { "Content-Type": "multipart/form-data" },
        "`multipart/form-data` without a body or boundary: send `Content-Type: application/json` or `Content-Type: multipart/form-data` (multipart: `file` parts and a `task` field)",
      ],
    ];
    for (const [path, body, headers, detail] of cases) {
      const res = await app.request(path, { method: "POST", body, headers });
      expect([path, res.status]).toEqual([path, 415]);
      expect(((await res.json()) as Problem).detail).toBe(detail);
    }
  });

  test("the token endpoint says what to send, and recognises JSON sent as a form", async () => {
    const { rawApp } = ctx();
    const token = (body: string | undefined, headers: Record<string, string>) =>
      rawApp.request("/v1/auth/token", { method: "POST", body, headers });
    const cases: [string | undefined, Record<string, string>, string][] = [
      [
        "username=a%40example.com&password=x",
        {},
        "No Content-Type was sent: send `Content-Type: application/json` or `Content-Type: application/x-www-form-urlencoded`",
      ],
      [
        undefined,
        {},
        "No Content-Type was sent: send `Content-Type: application/x-www-form-urlencoded` or `Content-Type: application/json`",
      ],
      [
        '{"email":"a@example.com","password":"a long test passphrase"}',
        { "Content-Type": "application/x-www-form-urlencoded" },
        "This operation does not take `application/x-www-form-urlencoded`: send `Content-Type: application/json` for a JSON body (curl -d sends a form)",
      ],
    ];
    for (const [body, headers, detail] of cases) {
      const res = await token(body, headers);
      expect([body, res.status]).toEqual([body, 415]);
      expect(((await res.json()) as Problem).detail).toBe(detail);
    }
  });
});
