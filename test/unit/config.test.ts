import { describe, expect, test } from "bun:test";
import { AREAS, ConfigError, loadConfig, VARIABLES } from "../../src/config/config.ts";
import { CONFIGURATION_DOC, renderConfigurationDoc } from "../../src/config/generate-docs.ts";

const documentation = await Bun.file(CONFIGURATION_DOC).text();

describe("loadConfig", () => {
  test("has safe defaults: embedded database under ./data, 25 MiB files, 50 per batch, 50 MP", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 8000,
      databaseUrl: undefined,
      dataDir: "./data",
      edgeMemoryProbe: false,
      tempImageDir: "./data/tmp",
      limits: {
        maxUploadBytes: 26_214_400,
        maxBatchFiles: 50,
        maxPixels: 50_000_000,
        maxUserBytes: 10 * 1024 ** 3,
        maxUserImages: 100_000,
      },
      workers: {
        size: navigator.hardwareConcurrency,
        queueLimit: 64,
        timeoutMs: 30_000,
        admission: {
          perUser: Math.ceil(navigator.hardwareConcurrency / 2),
          perUserQueue: 16,
          maxInflightBytes: 256 * 1024 * 1024,
          computeBudgetSeconds: 120,
        },
      },
      auth: { jwtKeys: [], tokenTtlSeconds: 3600, admin: null, trustProxy: false },
      rateLimits: { requests: 600, windowSeconds: 60, signups: 10, signupWindowSeconds: 3600 },
      redisUrl: undefined,
      publicUrl: "http://localhost:8000",
      notifications: {
        smtpUrl: undefined,
        mailFrom: "Pictor <pictor@localhost>",
        maxAttempts: 5,
        backoffMs: 30_000,
        backoffMaxMs: 3_600_000,
        timeoutMs: 15_000,
        pollMs: 1000,
        attachMaxFiles: 5,
        attachMaxBytes: 5 * 1024 * 1024,
      },
      webhooks: { allowHttpHosts: [], allowPrivate: [] },
      jobs: {
        amqpUrl: undefined,
        // Generated per process when no broker needs a shared one.
        workerSecret: expect.any(String),
        queuePrefix: "pictor",
        maxAttempts: 3,
        concurrency: navigator.hardwareConcurrency,
        retryBaseMs: 1000,
        leaseMs: 60_000,
        pollMs: 500,
        messageMaxAgeMs: 86_400_000,
      },
      logLevel: "info",
      metricsToken: undefined,
      workerMetricsPort: undefined,
      shutdownTimeoutMs: 10_000,
    });
  });

  test("reads the account settings: signing keys, admin, quotas, rate limits", () => {
    const config = loadConfig({
      JWT_KEYS: "new:0123456789abcdef0123456789abcdef, old:fedcba9876543210fedcba9876543210",
      JWT_TTL_SECONDS: "600",
      ADMIN_EMAIL: "root@example.com",
      ADMIN_PASSWORD: "a long admin passphrase",
      TRUST_PROXY: "true",
      MAX_USER_BYTES: "1000000",
      MAX_USER_IMAGES: "10",
      RATE_LIMIT_REQUESTS: "0",
      RATE_LIMIT_WINDOW_SECONDS: "1",
      SIGNUP_RATE_LIMIT: "3",
      SIGNUP_RATE_WINDOW_SECONDS: "60",
    });
    expect(config.auth).toEqual({
      jwtKeys: [
        { kid: "new", secret: "0123456789abcdef0123456789abcdef" },
        { kid: "old", secret: "fedcba9876543210fedcba9876543210" },
      ],
      tokenTtlSeconds: 600,
      admin: { email: "root@example.com", password: "a long admin passphrase" },
      trustProxy: true,
    });
    expect(config.limits).toMatchObject({ maxUserBytes: 1_000_000, maxUserImages: 10 });
    expect(config.rateLimits).toEqual({
      requests: 0,
      windowSeconds: 1,
      signups: 3,
      signupWindowSeconds: 60,
    });
  });

  test("refuses short or malformed signing keys, half an admin, and never echoes a secret", () => {
    let message = "";
    try {
      loadConfig({ JWT_KEYS: "k1:too-short-secret" });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain("JWT_KEYS: Expected kid:secret pairs");
    expect(message).toContain("at least 32 characters");
    expect(message).toContain("(received a value not shown)");
    expect(message).not.toContain("too-short-secret");
    expect(() =>
      loadConfig({
        JWT_KEYS: "a:0123456789abcdef0123456789abcdef,a:0123456789abcdef0123456789abcdef",
      }),
    ).toThrow("Expected distinct key ids in JWT_KEYS (a twice)");
    expect(() => loadConfig({ ADMIN_EMAIL: "root@example.com" })).toThrow(
      "ADMIN_EMAIL and ADMIN_PASSWORD: Expected both or neither",
    );
    expect(() => loadConfig({ ADMIN_EMAIL: "root", ADMIN_PASSWORD: "x" })).toThrow("ADMIN_EMAIL");
    expect(() => loadConfig({ TRUST_PROXY: "yes" })).toThrow(
      "TRUST_PROXY: Expected true, false, 1 or 0 for TRUST_PROXY",
    );
  });

  test("reads every variable; empty means unset", () => {
    const config = loadConfig({
      HOST: "0.0.0.0",
      PORT: "9000",
      DATABASE_URL: "postgres://u@db:5432/x",
      DATA_DIR: "/srv/pictor/",
      TEMP_IMAGE_DIR: "",
      MAX_UPLOAD_BYTES: "1000",
      MAX_BATCH_FILES: "3",
      MAX_PIXELS: "4000",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 9000,
      databaseUrl: "postgres://u@db:5432/x",
      dataDir: "/srv/pictor",
      tempImageDir: "/srv/pictor/tmp",
      limits: { maxUploadBytes: 1000, maxBatchFiles: 3, maxPixels: 4000 },
      logLevel: "warn",
    });
  });

  test("every numeric default in docs/configuration.md is the real default, and is read", () => {
    const documented = [...documentation.matchAll(/^\| `([A-Z_]+)` +\| `(\d+)`/gm)].map(
      ([, name, value]) => [name as string, value as string] as const,
    );
    // Without the per-process secret, which differs on every call.
    const settings = (env: Record<string, string>) => {
      const { jobs, ...rest } = loadConfig(env);
      return { ...rest, jobs: { ...jobs, workerSecret: null } };
    };
    const defaults = settings({});
    for (const [name, value] of documented) {
      expect([name, settings({ [name]: value })]).toEqual([name, defaults]);
      // …and the variable is read at all: another value changes the configuration.
      expect([name, settings({ [name]: String(Number(value) + 1) })]).not.toEqual([name, defaults]);
    }
    expect(documented.length).toBeGreaterThanOrEqual(25);
    expect(documented.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        "MAX_USER_BYTES",
        "MAX_USER_IMAGES",
        "RATE_LIMIT_REQUESTS",
        "RATE_LIMIT_WINDOW_SECONDS",
        "SIGNUP_RATE_LIMIT",
        "SIGNUP_RATE_WINDOW_SECONDS",
        "JWT_TTL_SECONDS",
      ]),
    );
  });

  test("a bad value names the variable, what is allowed and what was received", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(
      'PORT: Expected an integer between 0 and 65535 for PORT (received "70000")',
    );
    expect(() => loadConfig({ LOG_LEVEL: "loud", MAX_PIXELS: "0" })).toThrow(
      /MAX_PIXELS: .*\n.*LOG_LEVEL: .*debug, info/s,
    );
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow("DATABASE_URL");
  });

  test("each variable is documented once, under a known area, with every field filled", () => {
    const names = VARIABLES.map((v) => v.doc.env);
    expect(new Set(names).size).toBe(names.length);
    for (const { doc } of VARIABLES) {
      expect([doc.env, Object.keys(AREAS)]).toEqual([doc.env, expect.arrayContaining([doc.area])]);
      expect(doc.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
      for (const text of [doc.description, doc.allowed, doc.shownDefault]) {
        expect([doc.env, text.trim().length > 0]).toEqual([doc.env, true]);
      }
      expect(documentation).toContain(`| \`${doc.env}\` `);
    }
  });
});

test("docs/configuration.md is what src/config/config.ts generates", async () => {
  const stale = documentation !== renderConfigurationDoc();
  expect(
    stale
      ? "docs/configuration.md differs from src/config/config.ts: run `npm run docs:config`"
      : "fresh",
  ).toBe("fresh");
});
