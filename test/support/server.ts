import type { Subprocess } from "bun";

const entry = new URL("../../src/adapters/bun/server.ts", import.meta.url).pathname;

export type RunningServer = {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output: string[];
};

/**
 * Starts `bun --max-http-header-size=65536 src/adapters/bun/server.ts` as a real process with `env` on top of a minimal
 * environment, and resolves once it logs "listening" (rejects if it exits first).
 */
export async function spawnServer(env: Record<string, string>): Promise<RunningServer> {
  // As `npm start` and the Dockerfile run it.
  const proc = Bun.spawn([process.execPath, "--max-http-header-size=65536", entry], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output: string[] = [];
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      const stderr = await new Response(proc.stderr).text();
      throw new Error(
        `server exited (${await proc.exited}) before listening:\n${output.join("\n")}\n${stderr}`,
      );
    }
    pending += decoder.decode(value, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    output.push(...lines);
    const listening = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "listening");
    if (listening) {
      // Keep draining: a full pipe would block the server's logging.
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
          output.push(...decoder.decode(r.value, { stream: true }).split("\n").filter(Boolean));
        }
      })();
      return { url: String(listening.url).replace(/\/$/, ""), proc, output };
    }
  }
}

/** An admin the server makes at start (pass `...SERVER_ADMIN` in its env), for `serverToken`. */
export const SERVER_ADMIN = {
  ADMIN_EMAIL: "admin@example.com",
  ADMIN_PASSWORD: "a long test admin passphrase",
};

/**
 * Two image workers and no per-user limit in the way (fair share, queue, compute budget, rate
 * limit), for a run where one user sends everything: a benchmark, a campaign of requests.
 */
export const ONE_USER_UNLIMITED = {
  IMAGE_WORKERS: "2",
  IMAGE_WORKERS_PER_USER: "2",
  IMAGE_QUEUE_PER_USER: "64",
  COMPUTE_BUDGET_SECONDS: "0",
  RATE_LIMIT_REQUESTS: "0",
};

/** The `Authorization` header of SERVER_ADMIN on a running server. */
export async function serverAuth(url: string): Promise<{ Authorization: string }> {
  const res = await fetch(`${url}/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: SERVER_ADMIN.ADMIN_EMAIL,
      password: SERVER_ADMIN.ADMIN_PASSWORD,
    }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return {
    Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}`,
  };
}
