import { join } from "node:path";
import { Miniflare } from "miniflare";

// The Worker as deployed: bundled by `wrangler deploy --dry-run` (what `npm run edge:build`
// runs), then run by workerd through Miniflare, with wrangler.toml's flags.

const ROOT = new URL("../..", import.meta.url).pathname;

/** Bundles the Worker into `outdir` with wrangler; returns its "Total Upload: …" line. */
export async function buildWorker(outdir: string): Promise<string> {
  const build = Bun.spawn(
    [join(ROOT, "node_modules/.bin/wrangler"), "deploy", "--dry-run", "--outdir", outdir],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(build.stdout).text(),
    new Response(build.stderr).text(),
    build.exited,
  ]);
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${out}\n${err}`);
  return out.match(/Total Upload: .*/)?.[0] ?? "";
}

/** Runs the bundle in `outdir` in workerd; the caller disposes of it. */
export async function startWorkerd(
  outdir: string,
  bindings: Record<string, string>,
): Promise<Miniflare> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(outdir, "worker.js"),
    modulesRoot: outdir,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    bindings,
  });
  await mf.ready;
  return mf;
}
