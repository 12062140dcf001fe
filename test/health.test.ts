import { expect, test } from "bun:test";
import { loadLocalWasm, loadProjectWasm } from "../src/adapters/bun/wasm.ts";
import { connectPostgres } from "../src/adapters/postgres/database.ts";
import { createCodecs } from "../src/core/formats/codecs.ts";
import { createApp } from "../src/http/app.ts";
import { createInlineProcessor } from "../src/platform/inline-image-processor.ts";
import { createJsonLogger } from "../src/platform/logger.ts";
import { ARGON2_WASM_FILE, wasmPasswordHasher } from "../src/platform/password-hasher.ts";
import { memorySpool } from "../src/platform/spool.ts";
import { createServices } from "../src/wiring/create-services.ts";
import { TEST_AUTH, TEST_LIMITS, TEST_RATE_LIMITS } from "./support/database.ts";
import { spawnServer } from "./support/server.ts";

// Port 1 on loopback: nothing listens there, so connecting fails at once.
const DEAD_DATABASE = "postgres://postgres@127.0.0.1:1/none";

test("/readyz answers 503 problem while the database is unreachable; /healthz stays 200", async () => {
  const db = connectPostgres(DEAD_DATABASE, { max: 1 });
  const logs: string[] = [];
  const services = createServices({
    db,
    processor: createInlineProcessor(createCodecs(loadLocalWasm), createJsonLogger("silent")),
    spool: memorySpool,
    hasher: wasmPasswordHasher(() => loadProjectWasm(ARGON2_WASM_FILE)),
    limits: TEST_LIMITS,
    auth: TEST_AUTH,
    rateLimits: TEST_RATE_LIMITS,
    logger: createJsonLogger("warn", (line) => logs.push(line)),
  });
  const app = createApp({ services });
  const ready = await app.request("/readyz");
  expect(ready.status).toBe(503);
  expect(ready.headers.get("content-type")).toBe("application/problem+json");
  expect(await ready.json()).toMatchObject({ status: 503, title: "Service unavailable" });
  expect(logs.some((l) => JSON.parse(l).msg === "not ready")).toBe(true);
  expect((await app.request("/healthz")).status).toBe(200);
  await db.close();
});

test("the server exits 1 with one log line when the database is unreachable at start", async () => {
  await expect(spawnServer({ DATABASE_URL: DEAD_DATABASE })).rejects.toThrow(
    /exited \(1\)[\s\S]*could not start/,
  );
});
