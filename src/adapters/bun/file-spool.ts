import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Spool } from "../../platform/spool.ts";
import { removeLeftovers, tempFileName } from "../node/leftovers.ts";

// A large upload leaves its size in garbage (the request's chunks) by the time it is spooled, just
// before the file is read whole for its checks: collected then, not when the heap next fills, a
// 20 MB upload grows RSS by ~30 MB instead of ~40–90 (measured in object-storage.process.test.ts).
const LARGE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Spools uploads to files in `dir`, hashing as they stream, so an upload in flight costs disk,
 * not memory, until its single read for the database write. The partial files a killed process
 * left in `dir` are removed first.
 */
export function createFileSpool(dir: string): Spool {
  mkdirSync(dir, { recursive: true });
  // The host in the name: processes on other hosts may share `dir` (a volume), and their PIDs
  // mean nothing here, so only this host's files are judged.
  const prefix = `upload-${hostname()}-`;
  removeLeftovers(dir, prefix);
  return {
    async create() {
      const path = join(dir, tempFileName(prefix));
      const handle = await open(path, "wx", 0o600);
      const hash = createHash("sha256");
      let size = 0;
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await handle.close();
      };
      return {
        async write(chunk) {
          hash.update(chunk);
          size += chunk.length;
          await handle.write(chunk);
        },
        async finish() {
          await close();
          if (size >= LARGE_FILE_BYTES) Bun.gc(true);
          return { size, sha256: hash.digest("hex") };
        },
        read: () => Bun.file(path).bytes(),
        blob: () => Bun.file(path),
        async discard() {
          await close();
          await rm(path, { force: true });
        },
      };
    },
  };
}
