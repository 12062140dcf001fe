import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("loadConfig", () => {
  test("has safe defaults: embedded database under ./data, 25 MiB files, 50 per batch, 50 MP", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 8000,
      databaseUrl: undefined,
      dataDir: "./data",
      tempImageDir: "./data/tmp",
      limits: { maxUploadBytes: 26_214_400, maxBatchFiles: 50, maxPixels: 50_000_000 },
      workers: { size: navigator.hardwareConcurrency, queueLimit: 64, timeoutMs: 30_000 },
      logLevel: "info",
    });
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
});
