import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";

test("notification settings: defaults", () => {
  const config = loadConfig({ PORT: "8080" });
  expect(config.publicUrl).toBe("http://localhost:8080");
  expect(config.notifications).toEqual({
    smtpUrl: undefined,
    mailFrom: "Pictor <pictor@localhost>",
    maxAttempts: 5,
    backoffMs: 30_000,
    backoffMaxMs: 3_600_000,
    timeoutMs: 15_000,
    pollMs: 1000,
    attachMaxFiles: 5,
    attachMaxBytes: 5 * 1024 * 1024,
  });
  expect(config.webhooks).toEqual({ allowHttpHosts: [], allowPrivate: [] });
});

test("notification settings: values, lists lower-cased and trimmed", () => {
  const config = loadConfig({
    PUBLIC_URL: "https://pictor.example.com/",
    SMTP_URL: "smtps://user:secret@smtp.example.com:465",
    MAIL_FROM: "Pictor <noreply@example.com>",
    NOTIFY_MAX_ATTEMPTS: "8",
    NOTIFY_ATTACH_MAX_FILES: "0",
    WEBHOOK_ALLOW_HTTP_HOSTS: "Mailpit, 127.0.0.1",
    WEBHOOK_ALLOW_PRIVATE: "10.0.0.0/8, ::1,hooks.internal",
  });
  expect(config.publicUrl).toBe("https://pictor.example.com");
  expect(config.notifications.smtpUrl).toBe("smtps://user:secret@smtp.example.com:465");
  expect(config.notifications.maxAttempts).toBe(8);
  expect(config.notifications.attachMaxFiles).toBe(0);
  expect(config.webhooks).toEqual({
    allowHttpHosts: ["mailpit", "127.0.0.1"],
    allowPrivate: ["10.0.0.0/8", "::1", "hooks.internal"],
  });
});

test("notification settings: errors name the variable, and never echo SMTP_URL", () => {
  const errorOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as Error).message;
    }
    return "no error";
  };
  expect(errorOf({ SMTP_URL: "http://user:hunter2@smtp.example.com" })).toBe(
    "Invalid configuration:\n  SMTP_URL: Expected an smtp:// or smtps:// URL for SMTP_URL (received a value not shown)",
  );
  expect(errorOf({ NOTIFY_MAX_ATTEMPTS: "0" })).toBe(
    'Invalid configuration:\n  NOTIFY_MAX_ATTEMPTS: Expected an integer between 1 and 100 for NOTIFY_MAX_ATTEMPTS (received "0")',
  );
  expect(errorOf({ PUBLIC_URL: "pictor.example.com" })).toContain(
    "PUBLIC_URL: Expected an http:// or https:// URL for PUBLIC_URL",
  );
  expect(errorOf({ WEBHOOK_ALLOW_PRIVATE: "10.0.0.0/40" })).toContain(
    "WEBHOOK_ALLOW_PRIVATE: Expected CIDRs (10.0.0.0/8, fc00::/7), IP addresses, host names or * separated by commas",
  );
  expect(errorOf({ WEBHOOK_ALLOW_HTTP_HOSTS: "http://x" })).toContain(
    "WEBHOOK_ALLOW_HTTP_HOSTS: Expected host names or IP addresses separated by commas",
  );
});
