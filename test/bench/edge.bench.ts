/**
 * The Worker in workerd: the bundle's size as wrangler reports it, and the CPU time of a warm
 * `/healthz`. workerd's clocks inside an isolate stand still between I/O (a Spectre
 * mitigation), so the CPU is read from outside: the workerd processes' user + system time
 * (/proc/<pid>/stat) across N sequential requests, divided by N. That includes Miniflare's
 * own entry worker and the HTTP handling in the same process, so it is an upper bound.
 *
 *   bun test/bench/edge.bench.ts
 *   BENCH_REQUESTS=2000 bun test/bench/edge.bench.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorker, startWorkerd } from "../support/workerd.ts";

const requests = Number(process.env.BENCH_REQUESTS ?? 500);
const TICKS_PER_SECOND = 100;

/** Every descendant of `pid` whose command is workerd. */
function workerdPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== pid) continue;
      const child = Number(entry);
      if (stat.includes("(workerd)")) found.push(child);
      found.push(...workerdPids(child));
    } catch {}
  }
  return found;
}

/** User + system CPU of the processes, in ms. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

const outdir = mkdtempSync(join(tmpdir(), "pictor-edge-bench-"));
try {
  const upload = await buildWorker(outdir);
  const mf = await startWorkerd(outdir, {
    DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    JWT_KEYS: "bench:bench-secret-0123456789abcdefghijklmnop",
    LOG_LEVEL: "error",
  });
  try {
    const url = await mf.ready;
    const pids = workerdPids(process.pid);
    const get = async () => {
      const res = await fetch(new URL("/healthz", url));
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
      await res.arrayBuffer();
    };
    for (let i = 0; i < 50; i++) await get();
    const cpu0 = cpuMs(pids);
    const t0 = performance.now();
    for (let i = 0; i < requests; i++) await get();
    const wall = performance.now() - t0;
    const cpu = cpuMs(pids) - cpu0;
    console.table([
      { measure: "bundle (wrangler)", value: upload.replace("Total Upload: ", "") },
      {
        measure: "warm /healthz, workerd CPU per request",
        value: `${(cpu / requests).toFixed(2)} ms`,
      },
      { measure: "warm /healthz, wall per request", value: `${(wall / requests).toFixed(2)} ms` },
      { measure: "requests", value: String(requests) },
    ]);
  } finally {
    await mf.dispose();
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
