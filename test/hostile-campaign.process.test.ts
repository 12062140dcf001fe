import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedServerDataDir } from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";
import { type Mutant, mutate } from "./support/hostile-images.ts";
import { ONE_USER_UNLIMITED, SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

/*
 * Issue 15's hostile-input campaign against a real server process: over 300 damaged copies of
 * small real photos (bit flips, truncations at many offsets, header edits) uploaded and, when
 * accepted, rendered and analysed; then every query parameter of the render and analysis
 * routes, and every field of their JSON bodies, sent values no client should send. No answer
 * may be a 5xx, none may take 5 s (a hang bound, not a latency goal), and the server's memory
 * must come back to within 20 % of where it started.
 */

const HANG_MS = 5000;
const CLIENTS = 4;

type Answer = { what: string; status: number; ms: number };

/**
 * One request, its body read to the end (and kept when it is JSON); status 0 when it took
 * HANG_MS, -1 when the connection failed.
 */
async function call(
  what: string,
  url: string,
  init: RequestInit = {},
): Promise<Answer & { json?: unknown }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG_MS) });
    const json = res.headers.get("content-type")?.includes("json") ? await res.json() : undefined;
    if (json === undefined) await res.arrayBuffer();
    return { what, status: res.status, ms: performance.now() - started, json };
  } catch (err) {
    const status = err instanceof Error && err.name === "TimeoutError" ? 0 : -1;
    return { what, status, ms: performance.now() - started };
  }
}

/** Runs `work` over `items`, `CLIENTS` at a time. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** `jpeg` with the EXIF segment (APP1) of `donor` inserted after its start-of-image marker. */
function withExifOf(jpeg: Uint8Array, donor: Uint8Array): Uint8Array<ArrayBuffer> {
  for (let at = 2; donor[at] === 0xff && (donor[at + 1] as number) >= 0xe0; ) {
    const end = at + 2 + (((donor[at + 2] as number) << 8) | (donor[at + 3] as number));
    if (donor[at + 1] === 0xe1) {
      return new Uint8Array(
        Buffer.concat([jpeg.subarray(0, 2), donor.subarray(at, end), jpeg.subarray(2)]),
      );
    }
    at = end;
  }
  throw new Error("the donor has no EXIF segment");
}

const rssBytes = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;

/** What a client may put in a query parameter by mistake or on purpose. */
const QUERY_ABUSE = [
  "",
  "-1",
  "0",
  "-0",
  "1.5",
  "1e309",
  "NaN",
  "Infinity",
  "-Infinity",
  "2147483648",
  "99999999999999999999",
  "0x10",
  " 1",
  "１",
  "abc",
  "JPEG",
  "true",
  "null",
  "[]",
  "{}",
  "%00",
  "%E2%80%AE",
  "'; DROP TABLE images; --",
  "x".repeat(8000),
];

/** What a client may put in a JSON field. */
const JSON_ABUSE: unknown[] = [
  null,
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  "",
  "x".repeat(100_000),
  true,
  [],
  {},
  [null],
  Array.from({ length: 10_000 }, () => ({ op: "flip" })),
  { __proto__: { polluted: true } },
];

/** JSON bodies that are not what any route takes. */
const BODY_ABUSE = ["", "null", "[]", "{", '"x"', "[".repeat(100_000), `{"a":${"[".repeat(5000)}`];

type Schema = {
  $ref?: string;
  properties?: Record<string, unknown>;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const dataDir = mkdtempSync(join(tmpdir(), "pictor-hostile-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("hostile campaign: 300+ damaged real photos and abused parameters: no 5xx, no hang, memory back", async () => {
  await seedServerDataDir(dataDir);
  const server = await spawnServer({
    ...SERVER_ADMIN,
    DATA_DIR: dataDir,
    ...ONE_USER_UNLIMITED,
  });
  const { url } = server;
  try {
    const auth = await serverAuth(url);
    const answers: Answer[] = [];
    const ask = async (what: string, path: string, init: RequestInit = {}) => {
      const { json, ...answer } = await call(what, `${url}${path}`, {
        ...init,
        headers: { ...auth, ...init.headers },
      });
      answers.push(answer);
      return { ...answer, json };
    };
    const upload = async (name: string, bytes: Uint8Array<ArrayBuffer>) => {
      const form = new FormData();
      form.append("file", new File([bytes], name));
      const res = await fetch(`${url}/v1/images`, {
        method: "POST",
        headers: auth,
        body: form,
        signal: AbortSignal.timeout(HANG_MS),
      });
      const body = (await res.json()) as { images?: { id: string }[] };
      return { status: res.status, id: body.images?.[0]?.id };
    };

    // Small real photos: a photo rendered at 160 px in each format (the JPEG also with the
    // EXIF block of a photo taken in portrait: orientation 6), and the generated fixtures.
    const photo = await upload("landscape.jpg", await fixture("exif-orientation/Landscape_1.jpg"));
    expect(photo.status).toBe(201);
    const seeds: Mutant[] = [];
    for (const format of ["jpeg", "png", "webp", "avif"]) {
      const res = await fetch(`${url}/v1/images/${photo.id}/render?w=160&format=${format}`, {
        headers: auth,
      });
      expect(res.status).toBe(200);
      seeds.push({
        name: `landscape-160.${format}`,
        bytes: new Uint8Array(await res.arrayBuffer()),
      });
    }
    seeds.push({
      name: "landscape-160-exif-6.jpeg",
      bytes: withExifOf(
        seeds[0]?.bytes as Uint8Array,
        await fixture("exif-orientation/Landscape_6.jpg"),
      ),
    });
    for (const name of [
      "generated/landscape-240.webp",
      "generated/landscape-300.avif",
      "generated/landscape-120-lossless.webp",
      "generated/landscape-120-orientation-6.png",
    ]) {
      seeds.push({ name: name.split("/")[1] as string, bytes: await fixture(name) });
    }

    // Warm up: each seed stored, rendered and analysed once, so the workers' WebAssembly
    // memories (which only grow) reach their working size before the baseline is taken.
    const seedIds: string[] = [];
    for (const seed of seeds) {
      const stored = await upload(seed.name, seed.bytes);
      expect({ seed: seed.name, status: stored.status }).toEqual({ seed: seed.name, status: 201 });
      seedIds.push(stored.id as string);
      await ask(`warm-up render ${seed.name}`, `/v1/images/${stored.id}/render?w=48&format=png`);
      await ask(
        `warm-up histogram ${seed.name}`,
        `/v1/images/${stored.id}/histogram?bins=16&space=lab`,
      );
    }
    const rssStart = rssBytes(server.proc.pid);
    const campaignStarted = performance.now();

    // 1. Damaged photos through upload, then render and histogram when one is accepted.
    const mutants = seeds.flatMap((seed, i) =>
      mutate(seed.name, seed.bytes, { bitflips: 14, truncations: 14, headerEdits: 8 }, 1000 + i),
    );
    const uploads: Record<string, number> = {};
    await inParallel(mutants, async (m) => {
      const form = new FormData();
      form.append("file", new File([m.bytes], m.name));
      const stored = await ask(`upload ${m.name}`, "/v1/images", { method: "POST", body: form });
      uploads[stored.status] = (uploads[stored.status] ?? 0) + 1;
      if (stored.status !== 201) return;
      const id = (stored.json as { images: { id: string }[] }).images[0]?.id;
      await ask(`render ${m.name}`, `/v1/images/${id}/render?w=48&format=png`);
      await ask(`histogram ${m.name}`, `/v1/images/${id}/histogram?bins=16&space=lab`);
    });

    // 2. Every query parameter of the render and analysis routes, and every field of their
    // JSON bodies, with values no client should send.
    const spec = (await (await fetch(`${url}/openapi.json`)).json()) as Spec;
    const image = seedIds[0] as string;
    const segmented = await fetch(`${url}/v1/images/${image}/segmentations`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ method: "otsu" }),
    });
    expect(segmented.status).toBe(201);
    const segmentation = ((await segmented.json()) as { id: string }).id;
    const abuses: { what: string; path: string; init?: RequestInit }[] = [];
    /** The names of a body's fields, those of every variant of a union included. */
    const fieldsOf = (s: Schema | undefined): string[] => {
      const schema = s?.$ref ? spec.components?.schemas?.[s.$ref.split("/").at(-1) as string] : s;
      if (!schema) return [];
      const variants = [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])];
      return [...new Set([...Object.keys(schema.properties ?? {}), ...variants.flatMap(fieldsOf)])];
    };
    let parameters = 0;
    for (const [template, operations] of Object.entries(spec.paths)) {
      if (!/^\/v1\/(images|segmentations)\/\{id\}\//.test(template)) continue;
      const path = template.replace(
        "{id}",
        template.startsWith("/v1/segmentations") ? segmentation : image,
      );
      for (const [method, op] of Object.entries(operations)) {
        for (const p of op.parameters?.filter((p) => p.in === "query") ?? []) {
          parameters++;
          for (const value of QUERY_ABUSE) {
            abuses.push({
              what: `${method} ${template} ${p.name}=${value.slice(0, 20)}`,
              path: `${path}?${p.name}=${encodeURIComponent(value)}`,
              init: { method: method.toUpperCase() },
            });
          }
          abuses.push({
            what: `${method} ${template} ${p.name} twice`,
            path: `${path}?${p.name}=1&${p.name}=2`,
            init: { method: method.toUpperCase() },
          });
        }
        const body = op.requestBody?.content?.["application/json"]?.schema;
        if (!body) continue;
        const post = (what: string, text: string) =>
          abuses.push({
            what: `${method} ${template} ${what}`,
            path,
            init: {
              method: method.toUpperCase(),
              headers: { "Content-Type": "application/json" },
              body: text,
            },
          });
        for (const field of fieldsOf(body)) {
          parameters++;
          for (const value of JSON_ABUSE) {
            post(
              `${field}=${JSON.stringify(value).slice(0, 20)}`,
              JSON.stringify({ [field]: value }),
            );
          }
        }
        for (const text of BODY_ABUSE) post(`body ${text.slice(0, 20)}`, text);
      }
    }
    await inParallel(abuses, async (a) => {
      await ask(a.what, a.path, a.init);
    });
    const campaignMs = performance.now() - campaignStarted;

    // 3. Memory comes back: sampled until it is within 20 % of the start (or 10 s passed).
    let rssEnd = rssBytes(server.proc.pid);
    for (const deadline = Date.now() + 10_000; rssEnd > rssStart * 1.2 && Date.now() < deadline; ) {
      await Bun.sleep(250);
      rssEnd = Math.min(rssEnd, rssBytes(server.proc.pid));
    }

    const failures = answers.filter((a) => a.status >= 500 || a.status <= 0);
    const byStatus: Record<number, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    // The counts go in the closing note.
    console.info("hostile campaign", {
      mutatedPhotos: mutants.length,
      uploadsByStatus: uploads,
      parametersAbused: parameters,
      abusiveRequests: abuses.length,
      requests: answers.length,
      byStatus,
      fiveHundreds: answers.filter((a) => a.status >= 500).length,
      hangs: answers.filter((a) => a.status === 0).length,
      slowest: answers
        .toSorted((a, b) => b.ms - a.ms)
        .slice(0, 5)
        .map((a) => `${a.what.slice(0, 80)}: ${a.status} in ${Math.round(a.ms)} ms`),
      campaignMs: Math.round(campaignMs),
      rssStartMiB: Math.round(rssStart / 2 ** 20),
      rssEndMiB: Math.round(rssEnd / 2 ** 20),
    });
    expect(mutants.length).toBeGreaterThanOrEqual(300);
    expect(failures.map((a) => `${a.what}: ${a.status}`)).toEqual([]);
    expect(rssEnd).toBeLessThanOrEqual(rssStart * 1.2);
    expect(await (await fetch(`${url}/readyz`)).status).toBe(200);
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
}, 240_000);
