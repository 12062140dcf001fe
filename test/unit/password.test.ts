import { describe, expect, test } from "bun:test";
import { bunPasswordHasher } from "../../src/adapters/bun/bun-password-hasher.ts";
import { loadProjectWasm } from "../../src/adapters/bun/wasm.ts";
import { passwordProblem } from "../../src/features/accounts/password-policy.ts";
import { ARGON2_WASM_FILE, wasmPasswordHasher } from "../../src/platform/password-hasher.ts";

const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22,43}\$[A-Za-z0-9+/]{43}$/;

describe("password hashers", () => {
  const adapters = {
    bun: bunPasswordHasher(),
    wasm: wasmPasswordHasher(() => loadProjectWasm(ARGON2_WASM_FILE)),
  };

  for (const [name, hasher] of Object.entries(adapters)) {
    test(`${name}: argon2id PHC strings with a fresh salt; verify tells right from wrong`, async () => {
      const a = await hasher.hash("correct horse battery");
      const b = await hasher.hash("correct horse battery");
      expect(a).toMatch(PHC);
      expect(b).toMatch(PHC);
      expect(a).not.toBe(b);
      expect(await hasher.verify("correct horse battery", a)).toBe(true);
      expect(await hasher.verify("correct horse batterY", a)).toBe(false);
      expect(await hasher.verify("", a)).toBe(false);
      expect(await hasher.verify("correct horse battery", "not a hash")).toBe(false);
      expect(await hasher.verify("correct horse battery", "$argon2id$v=19$m=19456")).toBe(false);
    });
  }

  test("each adapter verifies the other's hashes (a database moves between runtimes)", async () => {
    const fromBun = await adapters.bun.hash("a passphrase to share");
    const fromWasm = await adapters.wasm.hash("a passphrase to share");
    expect(await adapters.wasm.verify("a passphrase to share", fromBun)).toBe(true);
    expect(await adapters.bun.verify("a passphrase to share", fromWasm)).toBe(true);
    expect(await adapters.wasm.verify("another passphrase", fromBun)).toBe(false);
  });

  test("wasm: a hasher that cannot run throws rather than answer 'wrong password'", async () => {
    const hash = await adapters.wasm.hash("a passphrase to share");
    const broken = wasmPasswordHasher(() =>
      Promise.reject(new Error("Wasm code generation disallowed by embedder")),
    );
    await expect(broken.verify("a passphrase to share", hash)).rejects.toThrow("disallowed");
  });
});

describe("password policy", () => {
  test("at least 12 characters (code points), at most 1024", () => {
    expect(passwordProblem("eleven-char", "a@b.co")).toBe(
      "Expected a password of 12 to 1024 characters but received 11",
    );
    expect(passwordProblem("🔑".repeat(11), "a@b.co")).toContain("received 11");
    expect(passwordProblem("x".repeat(1025), "a@b.co")).toContain("received 1025");
    expect(passwordProblem("twelve chars", "a@b.co")).toBeNull();
  });

  test("common passwords, one repeated character, and the email itself are refused", () => {
    const common =
      "Expected a password that is not among the most common ones (nor the email address)";
    for (const password of ["Password1234", "123456789012", "qwertyuiop123", "aaaaaaaaaaaaaa"]) {
      expect([password, passwordProblem(password, "someone@example.com")]).toEqual([
        password,
        common,
      ]);
    }
    expect(passwordProblem("someone@example.com", "someone@example.com")).toBe(common);
    expect(passwordProblem("verylongusername", "VeryLongUserName@example.com")).toBe(common);
  });
});
