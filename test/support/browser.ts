import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/**
 * Debian's Chromium, never a downloaded browser: CHROMIUM_PATH overrides, else whatever
 * `command -v chromium` finds. Missing → the browser tests skip with a warning, or fail the run
 * under REQUIRE_SERVICES=1 (CI installs the package first, see .ci/run).
 */
function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

export const chromiumPath = findChromium();
if (!chromiumPath) {
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error("REQUIRE_SERVICES=1 but Chromium is missing (apt-get install -y chromium)");
  console.warn("\n⚠ SKIPPING browser tests: no chromium on PATH (apt-get install -y chromium)\n");
}
export const browserAvailable = chromiumPath !== null;

/** A headless Chromium; the caller closes it. */
export function launchBrowser(): Promise<Browser> {
  if (!chromiumPath) throw new Error("no chromium (check browserAvailable first)");
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Containers run as root without user namespaces: Chromium's sandbox cannot start there.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}
