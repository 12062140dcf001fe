import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

// Tells this process from an earlier one that had the same PID: in a container the server is
// PID 1 after every restart, so a PID alone would make a dead predecessor's files look live.
const INSTANCE = crypto.randomUUID().slice(0, 8);

/**
 * A fresh name `<prefix><pid>-<instance>-<random hex><suffix>` for a temporary file of this
 * process, which removeLeftovers can tell from other processes' files once this one is dead.
 *
 * @example
 * tempFileName("upload-"); // "upload-4242-1a2b3c4d-9f86d081884c7d659a2feaa0c55ad015"
 */
export function tempFileName(prefix: string, suffix = "", randomChars = 32): string {
  const random = crypto.randomUUID().replaceAll("-", "").slice(0, randomChars);
  return `${prefix}${process.pid}-${INSTANCE}-${random}${suffix}`;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the files of `dir` named by tempFileName(prefix, suffix) that a dead process left
 * behind (a kill -9 runs no cleanup): those whose PID is not running, or is this process's own
 * under another instance. Files of live processes sharing the directory, and every other name,
 * are left alone. Returns the names removed.
 *
 * @example
 * removeLeftovers(tmpdir(), "pictor-pglite-", ".sock"); // ["pictor-pglite-4242-1a2b3c4d-0e1f2a3b.sock"]
 */
export function removeLeftovers(dir: string, prefix: string, suffix = ""): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    // Anchored at both ends: a prefix that is the start of another one ("upload-web-" and
    // "upload-web-1-") must not read the other's names as its own.
    const tag = /^(\d+)-([0-9a-f]{8})-[0-9a-f]+$/.exec(
      name.slice(prefix.length, name.length - suffix.length),
    );
    if (!tag) continue;
    const pid = Number(tag[1]);
    const dead = pid === process.pid ? tag[2] !== INSTANCE : !isAlive(pid);
    if (!dead) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
