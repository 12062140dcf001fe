import { createServer } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { uuidv7 } from "../../src/core/lib/uuid.ts";
import type { JobSummary } from "../../src/features/notifications/job-summary.ts";
import { createJsonLogger, type Logger } from "../../src/platform/logger.ts";

export type ReceivedMail = { envelopeTo: string[]; mail: ParsedMail };

export type TestSmtpServer = {
  port: number;
  received: ReceivedMail[];
  close(): Promise<void>;
};

/**
 * A real SMTP server on 127.0.0.1 (smtp-server), parsing every message it accepts. RCPT TO for
 * an address in `reject` is refused with 550, as a server refuses an unknown mailbox.
 */
export async function startSmtpServer(
  port = 0,
  options: { reject?: readonly string[] } = {},
): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    closeTimeout: 100,
    onRcptTo(address, _session, callback) {
      if (options.reject?.includes(address.address)) {
        const err = Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 });
        callback(err);
      } else callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  const actual = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
  return {
    port: actual,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nobody listens on (right now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` until it returns something truthy; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createJsonLogger("debug", (line) => lines.push(line)), lines };
}

export const PUBLIC_URL = "https://pictor.test";

/** A finished job's summary with a fresh id. */
export function jobSummary(ownerId: string, over: Partial<JobSummary> = {}): JobSummary {
  return {
    id: uuidv7(),
    owner_id: ownerId,
    kind: "transform",
    status: "succeeded",
    counts: { total: 2, succeeded: 2, failed: 0, canceled: 0 },
    started_at: "2026-03-01T12:00:00.000Z",
    finished_at: "2026-03-01T12:00:42.500Z",
    failed_items: [],
    results: [],
    ...over,
  };
}
