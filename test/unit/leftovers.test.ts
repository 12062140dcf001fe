import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeLeftovers, tempFileName } from "../../src/adapters/node/leftovers.ts";

describe("removeLeftovers", () => {
  const dir = mkdtempSync(join(tmpdir(), "pictor-leftovers-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("removes a dead PID's files and this PID's from an earlier instance; keeps live ones and other names", async () => {
    const exited = Bun.spawn(["true"]);
    await exited.exited;
    const names = {
      mine: tempFileName("upload-web-"),
      // This PID, but another instance: a predecessor that had the same PID (PID 1 in a container).
      predecessor: `upload-web-${process.pid}-0a1b2c3d-${"f".repeat(32)}`,
      dead: `upload-web-${exited.pid}-0a1b2c3d-${"f".repeat(32)}`,
      // PID 1 is running: another live process's file.
      live: `upload-web-1-0a1b2c3d-${"f".repeat(32)}`,
      // Another host's prefix that starts like this one's ("web-1"): not read as PID 1 here.
      otherHost: `upload-web-1-${exited.pid}-0a1b2c3d-${"f".repeat(32)}`,
      untagged: `upload-web-${crypto.randomUUID()}`,
      socket: `pictor-pglite-${exited.pid}-0a1b2c3d-0e1f2a3b.sock`,
    };
    for (const name of Object.values(names)) writeFileSync(join(dir, name), "x");
    expect(names.mine).toMatch(new RegExp(`^upload-web-${process.pid}-[0-9a-f]{8}-[0-9a-f]{32}$`));

    expect(removeLeftovers(dir, "upload-web-").sort()).toEqual(
      [names.predecessor, names.dead].sort(),
    );
    expect(removeLeftovers(dir, "pictor-pglite-", ".sock")).toEqual([names.socket]);
    expect(readdirSync(dir).sort()).toEqual(
      [names.mine, names.live, names.otherHost, names.untagged].sort(),
    );
    expect(removeLeftovers(join(dir, "missing"), "upload-")).toEqual([]);
  });
});
