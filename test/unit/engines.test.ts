import { expect, test } from "bun:test";
import pkg from "../../package.json";

test("package.json engines name the Bun that runs the server, and the running Bun satisfies it", () => {
  expect(pkg.engines.bun).toBe(">=1.4.0");
  expect(Bun.semver.satisfies(Bun.version, pkg.engines.bun)).toBe(true);
  // Every process is started by Bun; Node only runs npm and the tooling.
  for (const script of [pkg.scripts.start, pkg.scripts.worker, pkg.scripts.cli]) {
    expect(script).toStartWith("bun ");
  }
  expect(Bun.semver.satisfies("1.3.9", pkg.engines.bun)).toBe(false);
});
