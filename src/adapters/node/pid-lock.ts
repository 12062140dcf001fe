import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { isAlive } from "./leftovers.ts";

// The locks this process holds: a second open of the same one in this process is refused too.
const held = new Set<string>();

/**
 * Takes the lock file `path` for this process (its PID written inside): `release` gives it back;
 * `heldBy` names the live process that holds it instead. A lock left by a dead process, or by
 * an earlier process that had this PID (a restarted container is PID 1 again), is taken over.
 *
 * @example
 * const lock = takePidLock("data/pglite.lock");
 * if ("heldBy" in lock) throw new Error(`in use by PID ${lock.heldBy}`);
 */
export function takePidLock(path: string): { release(): void } | { heldBy: number } {
  for (;;) {
    if (held.has(path)) return { heldBy: process.pid };
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      held.add(path);
      return {
        release() {
          if (held.delete(path)) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number(readFileSync(path, "utf8").trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      return { heldBy: pid };
    }
    rmSync(path, { force: true });
  }
}
