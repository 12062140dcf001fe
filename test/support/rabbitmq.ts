import { describe } from "bun:test";
import { connect } from "amqplib";
import { deleteTopology, jobTopology, type Topology } from "../../src/adapters/rabbitmq/amqp.ts";

/** The broker CI uses; AMQP_URL overrides it. */
export const RABBITMQ_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const required = process.env.REQUIRE_SERVICES === "1";

async function reachable(url: string): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = connect(url);
  try {
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 3 s")), 3000);
      }),
    ]);
    await conn.close();
    return null;
  } catch (err) {
    // A connection that opens after the deadline is closed, not left holding the process.
    attempt.then((late) => late.close()).catch(() => {});
    return String(err);
  } finally {
    clearTimeout(timer);
  }
}

const unreachable = await reachable(RABBITMQ_URL);
if (unreachable) {
  if (required) {
    throw new Error(
      `REQUIRE_SERVICES=1 but RabbitMQ at ${RABBITMQ_URL} is unreachable: ${unreachable}`,
    );
  }
  console.warn(`\n⚠ SKIPPING RabbitMQ tests: ${RABBITMQ_URL} is unreachable (${unreachable})\n`);
}
export const rabbitAvailable = unreachable === null;

/** `describe` when the broker is reachable, a loud skip otherwise. */
export const describeWithRabbit = rabbitAvailable ? describe : describe.skip;

/** Queues of their own for one test: a random prefix, deleted by `dispose`. */
export function testTopology(maxAttempts: number, retryBaseMs: number) {
  const prefix = `pictor-test-${crypto.randomUUID().slice(0, 8)}`;
  const topology = jobTopology(prefix, maxAttempts, retryBaseMs);
  return {
    prefix,
    topology,
    dispose: () => deleteTopology(RABBITMQ_URL, topology),
  };
}

/** Messages ready in a queue now. */
export async function queueDepth(queue: string): Promise<number> {
  const conn = await connect(RABBITMQ_URL);
  try {
    const ch = await conn.createChannel();
    const { messageCount } = await ch.checkQueue(queue);
    await ch.close();
    return messageCount;
  } finally {
    await conn.close();
  }
}

/** Publishes raw bytes to a queue, as anyone holding broker credentials could. */
export async function publishRaw(queue: string, bodies: Uint8Array[]): Promise<void> {
  const conn = await connect(RABBITMQ_URL);
  try {
    const ch = await conn.createConfirmChannel();
    for (const body of bodies) ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Takes every message out of a queue (acknowledged), with its x-death reason. */
export async function drain(
  queue: string,
): Promise<{ body: string; reason: string | undefined }[]> {
  const conn = await connect(RABBITMQ_URL);
  const out: { body: string; reason: string | undefined }[] = [];
  try {
    const ch = await conn.createChannel();
    for (let msg = await ch.get(queue); msg; msg = await ch.get(queue)) {
      const deaths = msg.properties.headers?.["x-death"] as { reason?: string }[] | undefined;
      out.push({ body: msg.content.toString("utf8"), reason: deaths?.[0]?.reason });
      ch.ack(msg);
    }
    await ch.close();
  } finally {
    await conn.close();
  }
  return out;
}

export type { Topology };
