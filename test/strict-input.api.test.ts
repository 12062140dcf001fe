import { expect, test } from "bun:test";
import type { App } from "../src/http/env.ts";
import { describeEachDatabase } from "./support/database.ts";
import { pngsuite } from "./support/fixtures.ts";

type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, unknown> };
};
type Spec = { paths: Record<string, Record<string, Operation>> };

const ID = "00000000-0000-4000-8000-000000000000";
const MISSPELLED = "operatoin";

type Problem = { status: number; detail: string; errors: { path: string; message: string }[] };

/** How many rows each list the test user (or, as admin, the whole service) can see. */
async function counts(app: App) {
  const count = async (path: string) =>
    ((await (await app.request(path)).json()) as { items: unknown[] }).items.length;
  return {
    images: await count("/v1/images?limit=100"),
    jobs: await count("/v1/jobs?limit=100"),
    webhooks: await count("/v1/webhooks"),
    apiKeys: await count("/v1/api-keys?limit=100"),
  };
}

async function uploadPng(app: App): Promise<string> {
  const form = new FormData();
  form.append("file", new File([await pngsuite("basn2c08.png")], "a.png"));
  const uploaded = await app.request("/v1/images", { method: "POST", body: form });
  return ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id ?? "";
}

describeEachDatabase("strict input", (ctx) => {
  test("every operation refuses an unknown query parameter and every JSON body an unknown key, storing nothing", async () => {
    const { app } = ctx();
    const admin = await ctx().createUser({ role: "admin" });
    const spec = (await (await app.request("/openapi.json")).json()) as Spec;
    const before = await counts(app);
    const usersBefore = await admin.app.request("/v1/admin/users?limit=100");
    const checked: string[] = [];
    for (const [template, operations] of Object.entries(spec.paths)) {
      const path = template.replace(/\{[^}]+\}/g, ID);
      for (const [method, op] of Object.entries(operations)) {
        // The admin reaches every operation, the admin ones included.
        const query = await admin.app.request(`${path}?${MISSPELLED}=1`, {
          method: method.toUpperCase(),
        });
        const queryProblem = (await query.json()) as Problem;
        expect([method, template, query.status]).toEqual([method, template, 422]);
        expect(queryProblem.errors).toContainEqual({
          path: `query.${MISSPELLED}`,
          message: expect.stringContaining(`unknown query parameter \`${MISSPELLED}\``),
        });
        checked.push(`${method} ${template}?`);
        if (!op.requestBody?.content?.["application/json"]) continue;
        const body = await admin.app.request(path, {
          method: method.toUpperCase(),
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ [MISSPELLED]: [] }),
        });
        const bodyProblem = (await body.json()) as Problem;
        expect([method, template, body.status]).toEqual([method, template, 422]);
        expect(bodyProblem.detail).toContain(`unknown field \`${MISSPELLED}\``);
        checked.push(`${method} ${template} json`);
      }
    }
    expect(checked.length).toBeGreaterThan(45);
    expect(await counts(app)).toEqual(before);
    expect(await counts(admin.app)).toEqual({ images: 0, jobs: 0, webhooks: 0, apiKeys: 0 });
    expect(await (await admin.app.request("/v1/admin/users?limit=100")).json()).toEqual(
      await usersBefore.json(),
    );
  });

  test("a misspelled key is named with the key it is close to, at any depth", async () => {
    const { app } = ctx();
    const id = await uploadPng(app);
    const post = (body: unknown) =>
      app.request(`/v1/images/${id}/transform`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });

    const typo = await post({ operation: [{ op: "flip" }] });
    expect(typo.status).toBe(422);
    expect(((await typo.json()) as Problem).errors).toEqual([
      {
        path: "json.operation",
        message: "unknown field `operation` — did you mean `operations`?",
      },
    ]);

    // Inside a union branch picked by its `op`: the resize's own keys are the known ones.
    const nested = await post({ operations: [{ op: "resize", widht: 10 }] });
    expect(((await nested.json()) as Problem).errors).toEqual([
      {
        path: "json.operations.0.widht",
        message: "unknown field `widht` — did you mean `width`?",
      },
    ]);

    const render = await app.request(`/v1/images/${id}/render?width=20`);
    expect(render.status).toBe(422);
    expect(((await render.json()) as Problem).errors[0]?.message).toStartWith(
      "unknown query parameter `width` (known: w, h,",
    );

    const token = await app.request("/v1/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "username=a%40example.com&pasword=x",
    });
    expect(((await token.json()) as Problem).errors).toEqual([
      { path: "form.pasword", message: "unknown field `pasword` — did you mean `password`?" },
    ]);

    // Only the source's own images: nothing was stored by any of these.
    const list = (await (await app.request("/v1/images")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
  });

  test("a transform with nothing to do is refused instead of stored as a copy", async () => {
    const { app } = ctx();
    const id = await uploadPng(app);
    const transform = (body: unknown) =>
      app.request(`/v1/images/${id}/transform`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const body of [{}, { operations: [] }, { autoOrient: false }]) {
      const res = await transform(body);
      expect([body, res.status]).toEqual([body, 422]);
      expect(((await res.json()) as Problem).detail).toContain("Nothing to do");
    }
    // A format, even the source's, re-encodes it (without its metadata): a change.
    expect((await transform({ format: "png" })).status).toBe(201);
    expect((await transform({ quality: 50 })).status).toBe(201);
  });
});
