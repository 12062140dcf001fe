import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createPostgresRateLimiter } from "../src/adapters/postgres/postgres-rate-limiter.ts";
import { createRedisRateLimiter } from "../src/adapters/redis/redis-rate-limiter.ts";
import { ApiError } from "../src/platform/api-error.ts";
import type { Database } from "../src/platform/database.ts";
import type { RateLimiter } from "../src/platform/rate-limiter.ts";
import { createScratchDatabase, openTestDatabase, postgresAvailable } from "./support/database.ts";
import { REDIS_URL, redisAvailable } from "./support/redis.ts";
import { type RunningServer, SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

/** Takes `count` turns of `key`, alternating between the instances, and says which were allowed. */
async function alternate(instances: RateLimiter[], key: string, count: number) {
  const allowed: boolean[] = [];
  for (let i = 0; i < count; i++) {
    allowed.push((await instances[i % instances.length]?.take(key))?.allowed ?? false);
  }
  return allowed;
}

const TEN_THEN_REFUSED = [...Array(10).fill(true), false, false];

describe.skipIf(!postgresAvailable)("the Postgres rate limiter", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase("postgres");
  });
  afterAll(() => db.close());

  test("two instances on one database share one budget: the 11th take is refused", async () => {
    const make = () =>
      createPostgresRateLimiter({ sql: db.sql, scope: "requests", limit: 10, windowMs: 60_000 });
    expect(await alternate([make(), make()], "user:a", 12)).toEqual(TEN_THEN_REFUSED);
    const refused = await make().take("user:a");
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number) });
    if (!refused.allowed) expect(refused.retryAfterSeconds).toBeWithin(1, 61);
    // Another key, and the same key under another scope, have budgets of their own.
    expect(await make().take("user:b")).toEqual({ allowed: true, remaining: 9 });
    const signups = createPostgresRateLimiter({
      sql: db.sql,
      scope: "signups",
      limit: 10,
      windowMs: 60_000,
    });
    expect(await signups.take("user:a")).toEqual({ allowed: true, remaining: 9 });
  });

  test("a new window starts once the last one ends", async () => {
    const limiter = createPostgresRateLimiter({
      sql: db.sql,
      scope: "short",
      limit: 2,
      windowMs: 300,
    });
    expect(await alternate([limiter], "k", 3)).toEqual([true, true, false]);
    await Bun.sleep(400);
    expect(await limiter.take("k")).toEqual({ allowed: true, remaining: 1 });
  });
});

describe.skipIf(!redisAvailable)("the Redis rate limiter", () => {
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
  const scope = `test-${crypto.randomUUID()}`;
  afterAll(async () => {
    const first = clients[0] as Redis;
    const keys = await first.keys(`pictor:rate:${scope}*`);
    if (keys.length > 0) await first.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  test("two instances on one server share one budget: the 11th take is refused", async () => {
    const instances = clients.map((redis) =>
      createRedisRateLimiter({ redis, scope, limit: 10, windowMs: 60_000 }),
    );
    expect(await alternate(instances, "user:a", 12)).toEqual(TEN_THEN_REFUSED);
    const refused = await instances[0]?.take("user:a");
    if (refused?.allowed !== false) throw new Error("expected a refusal");
    expect(refused.retryAfterSeconds).toBeWithin(1, 61);
    expect(await instances[1]?.take("user:b")).toEqual({ allowed: true, remaining: 9 });
  });

  test("a Redis that does not answer is a 503 to retry, not a 500", async () => {
    // Port 1: nothing listens there.
    const away = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const limiter = createRedisRateLimiter({ redis: away, scope, limit: 10, windowMs: 60_000 });
    const refused = await limiter.take("user:a").catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, extra: { headers: { "Retry-After": "1" } } });
    away.disconnect();
  });

  test("a new window starts once the last one ends", async () => {
    const limiter = createRedisRateLimiter({
      redis: clients[0] as Redis,
      scope: `${scope}-short`,
      limit: 2,
      windowMs: 300,
    });
    expect(await alternate([limiter], "k", 3)).toEqual([true, true, false]);
    await Bun.sleep(400);
    expect(await limiter.take("k")).toEqual({ allowed: true, remaining: 1 });
  });
});

/**
 * Two API processes on one new Postgres database with RATE_LIMIT_REQUESTS=10 (and `extra`): the
 * admin's writes alternate between them; the 11th is refused whichever instance gets it.
 */
async function twoInstances(extra: Record<string, string>) {
  const scratch = await createScratchDatabase("pictor_rate");
  const env = {
    DATABASE_URL: scratch.url,
    RATE_LIMIT_REQUESTS: "10",
    JWT_KEYS: "k1:0123456789abcdef0123456789abcdef",
    ...SERVER_ADMIN,
    ...extra,
  };
  let servers: RunningServer[] = [];
  try {
    // One after the other: both would otherwise race to migrate (which works, but costs CPU).
    servers = [await spawnServer(env)];
    servers.push(await spawnServer(env));
    const auth = await serverAuth(servers[0]?.url ?? "");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      // A write to an image that does not exist: counted (the limit comes first), stores nothing.
      const res = await fetch(`${servers[i % 2]?.url}/v1/images/${crypto.randomUUID()}`, {
        method: "DELETE",
        headers: auth,
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([...Array(10).fill(404), 429, 429]);
    // Reads that run no image work are never limited.
    expect((await fetch(`${servers[1]?.url}/v1/images`, { headers: auth })).status).toBe(200);
    return servers.map((s) => JSON.parse(s.output.find((l) => l.includes('"listening"')) ?? "{}"));
  } finally {
    for (const s of servers) {
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
    await scratch.drop();
  }
}

describe.skipIf(!postgresAvailable)("two API processes on one Postgres", () => {
  test("RATE_LIMIT_REQUESTS=10: the 11th write across both gets 429 (counters in Postgres)", async () => {
    const listening = await twoInstances({});
    expect(listening.map((l) => l.rate_limits)).toEqual(["postgres", "postgres"]);
  }, 60_000);

  test.skipIf(!redisAvailable)(
    "with REDIS_URL the counters live in Redis: the 11th write across both gets 429",
    async () => {
      const listening = await twoInstances({ REDIS_URL });
      expect(listening.map((l) => l.rate_limits)).toEqual(["redis", "redis"]);
    },
    60_000,
  );
});
