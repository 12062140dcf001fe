import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Spool } from "../../storage/spool.ts";

/**
 * Spools uploads to files in `dir`, hashing as they stream, so an upload in flight costs disk,
 * not memory, until its single read for the database write.
 */
export function createFileSpool(dir: string): Spool {
  mkdirSync(dir, { recursive: true });
  return {
    async create() {
      const path = join(dir, `upload-${crypto.randomUUID()}`);
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
          return { size, sha256: hash.digest("hex") };
        },
        read: () => Bun.file(path).bytes(),
        async discard() {
          await close();
          await rm(path, { force: true });
        },
      };
    },
  };
}
