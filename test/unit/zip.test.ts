import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "../../src/core/lib/crc32.ts";
import { type ZipEntry, zipStream } from "../../src/core/lib/zip.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function* entries(list: ZipEntry[]) {
  yield* list;
}

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pictor-zip-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("streaming ZIP writer", () => {
  test("crc32 continues over chunks", () => {
    expect(crc32(enc("IEND"))).toBe(0xae426082);
    expect(crc32(enc("ND"), crc32(enc("IE")))).toBe(0xae426082);
    expect(crc32(new Uint8Array(0), 0x1234)).toBe(0x1234);
  });

  test("stored entries with data descriptors: unzip and Python's zipfile read them back", async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    const when = new Date(Date.UTC(2026, 2, 1, 12, 34, 56));
    const body = zipStream(
      entries([
        { name: "a.txt", modified: when, data: async () => enc("hello\n") },
        {
          name: "dir/big.bin",
          data: async () =>
            streamOf([
              big.subarray(0, 1000),
              big.subarray(1000, 2_000_000),
              big.subarray(2_000_000),
            ]),
        },
        { name: "gone.txt", data: async () => null },
        { name: "empty", data: async () => new Uint8Array(0) },
        { name: "café-ü.json", data: async () => enc('{"ok":true}') },
      ]),
    );
    const zip = new Uint8Array(await new Response(body).arrayBuffer());
    const path = join(dir, "a.zip");
    await writeFile(path, zip);
    const tested = Bun.spawnSync(["unzip", "-t", path]);
    expect(tested.exitCode).toBe(0);
    expect(tested.stdout.toString()).toContain("No errors detected");
    const py = Bun.spawnSync([
      "python3",
      "-c",
      [
        "import sys, zipfile, json",
        "z = zipfile.ZipFile(sys.argv[1])",
        "print(json.dumps([[i.filename, i.file_size, i.compress_type, i.date_time] for i in z.infolist()]))",
        "print(z.testzip())",
        "print(z.read('a.txt').decode())",
      ].join("\n"),
      path,
    ]);
    const [listing, bad, text] = py.stdout.toString().split("\n");
    expect(JSON.parse(listing ?? "")).toEqual([
      ["a.txt", 6, 0, [2026, 3, 1, 12, 34, 56]],
      ["dir/big.bin", big.length, 0, expect.any(Array)],
      ["empty", 0, 0, expect.any(Array)],
      ["café-ü.json", 11, 0, expect.any(Array)],
    ]);
    expect([bad, text]).toEqual(["None", "hello"]);
    const out = Bun.spawnSync(["unzip", "-p", path, "dir/big.bin"]).stdout;
    expect(Buffer.compare(Buffer.from(out), Buffer.from(big))).toBe(0);
  });

  test("an empty archive is the end record alone; bytes are asked for one file at a time", async () => {
    const empty = new Uint8Array(await new Response(zipStream(entries([]))).arrayBuffer());
    expect([...empty]).toEqual([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
    const asked: string[] = [];
    const body = zipStream(
      entries(
        ["x", "y"].map((name) => ({
          name,
          data: async () => {
            asked.push(name);
            return enc(name);
          },
        })),
      ),
    );
    const reader = body.getReader();
    await reader.read(); // x's local header
    expect(asked).toEqual(["x"]);
    await reader.cancel();
  });
});
