import { Redis } from "ioredis";

/** The Redis server CI uses; REDIS_URL overrides it. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function reachable(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return String(err);
  } finally {
    redis.disconnect();
  }
}

const unreachable = await reachable(REDIS_URL);
if (unreachable) {
  if (process.env.REQUIRE_SERVICES === "1") {
    throw new Error(`REQUIRE_SERVICES=1 but Redis at ${REDIS_URL} is unreachable: ${unreachable}`);
  }
  console.warn(`\n⚠ SKIPPING Redis tests: ${REDIS_URL} is unreachable (${unreachable})\n`);
}
export const redisAvailable = unreachable === null;
