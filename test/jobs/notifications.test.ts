import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { verifyWebhookSignature } from "../../src/features/notifications/webhooks/signature.ts";
import { startSmtpServer, type TestSmtpServer, waitFor } from "../notify/support.ts";
import { closeAll, postgresAvailable } from "../support/database.ts";
import { type ApiEnv, openApiEnv, submitJob, uploadImages, waitForJobApi } from "./api-support.ts";
import { storePoisoned } from "./helpers.ts";

const THUMBNAIL = { transform: { operations: [{ op: "resize", width: 16 }], format: "png" } };

type Notification = {
  id: string;
  channel: string;
  target: string;
  status: string;
  attempts: number;
};

const notificationsOf = async (env: ApiEnv, jobId: string) =>
  (
    (await (await env.user.app.request(`/v1/jobs/${jobId}`)).json()) as {
      notifications: Notification[];
    }
  ).notifications;

for (const kind of ["embedded", "postgres"] as const) {
  const run = kind === "embedded" || postgresAvailable ? describe : describe.skip;

  run(`job notifications over SMTP and webhooks [${kind}]`, () => {
    let env: ApiEnv;
    let smtp: TestSmtpServer;
    const hits: { headers: Headers; body: string }[] = [];
    let receiver: ReturnType<typeof Bun.serve>;

    beforeAll(async () => {
      smtp = await startSmtpServer();
      receiver = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        async fetch(req) {
          hits.push({ headers: req.headers, body: await req.text() });
          return new Response(null, { status: 204 });
        },
      });
      env = await openApiEnv(kind, {
        notify: { smtpUrl: `smtp://127.0.0.1:${smtp.port}` },
        allowLoopbackWebhooks: true,
      });
    });
    afterAll(() =>
      closeAll(
        () => env?.close(),
        () => receiver?.stop(true),
        () => smtp?.close(),
      ),
    );

    test("a finished job's email reaches the SMTP server exactly once, and the job shows it sent", async () => {
      const { user } = env;
      const images = await uploadImages(user, 2, 2000);
      const { job } = await submitJob(user, { image_ids: images, task: THUMBNAIL });
      await waitForJobApi(user, job.id);
      const mails = () => smtp.received.filter((m) => m.envelopeTo.includes(user.email));
      await waitFor("the email", async () => mails().length > 0);
      const sent = await waitFor("the notification marked sent", async () => {
        const rows = await notificationsOf(env, job.id);
        return rows[0]?.status === "sent" ? rows : null;
      });
      expect(sent.map((n) => [n.channel, n.target, n.status, n.attempts])).toEqual([
        ["email", user.email, "sent", 1],
      ]);
      // Several dispatcher polls later, still one.
      await Bun.sleep(300);
      expect(mails()).toHaveLength(1);
      const { mail } = mails()[0] as (typeof smtp.received)[number];
      expect(mail.subject).toBe("[Pictor] Transform job succeeded: 2 of 2 items succeeded");
      // A signed URL: it opens without logging in (signed-urls.api.test.ts follows it).
      expect(mail.text).toContain(`Link:     https://pictor.test/v1/jobs/${job.id}?expires=`);
      // Two small results: attached, as the derived PNGs.
      expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([
        ["001-photo-0.png", "image/png"],
        ["002-photo-1.png", "image/png"],
      ]);
      expect([...(mail.attachments[0]?.content.subarray(0, 4) ?? [])]).toEqual([137, 80, 78, 71]);
    });

    test("histogram and segmentation jobs email their results too: JSON and mask PNGs attached", async () => {
      const user = await env.createUser();
      const images = await uploadImages(user, 2, 2300);
      const tasks = [
        { histogram: { space: "luma", bins: 16 } },
        { segmentation: { method: "otsu", channel: "luma" } },
      ];
      const mails = () => smtp.received.filter((m) => m.envelopeTo.includes(user.email));
      for (const task of tasks) {
        const { job } = await submitJob(user, { image_ids: images, task });
        expect((await waitForJobApi(user, job.id)).status).toBe("succeeded");
      }
      await waitFor("both emails", async () => mails().length === 2);
      const byKind = Object.fromEntries(
        mails().map(({ mail }) => [mail.subject?.split(" ")[1] ?? "", mail.attachments]),
      );
      expect(byKind.Histogram?.map((a) => [a.filename, a.contentType])).toEqual([
        ["001-photo-0.histogram.json", "application/json"],
        ["002-photo-1.histogram.json", "application/json"],
      ]);
      const histogram = JSON.parse(String(byKind.Histogram?.[0]?.content)) as {
        image_id: string;
        bins: number;
      };
      expect([histogram.image_id, histogram.bins]).toEqual([images[0] as string, 16]);
      expect(byKind.Segmentation?.map((a) => [a.filename, a.contentType])).toEqual([
        ["001-photo-0.mask.png", "image/png"],
        ["001-photo-0.segmentation.json", "application/json"],
        ["002-photo-1.mask.png", "image/png"],
        ["002-photo-1.segmentation.json", "application/json"],
      ]);
      const [mask, regions] = byKind.Segmentation ?? [];
      expect([...(mask?.content.subarray(0, 4) ?? [])]).toEqual([137, 80, 78, 71]);
      expect((JSON.parse(String(regions?.content)) as { image_id: string }).image_id).toBe(
        images[0] as string,
      );
    });

    test("a webhook to a loopback receiver allowed by the configuration gets the signed job event", async () => {
      const user = await env.createUser();
      const created = await user.app.request("/v1/webhooks", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook` }),
      });
      expect(created.status).toBe(201);
      const hook = (await created.json()) as { id: string; secret: string };
      const images = await uploadImages(user, 2, 2100);
      const poisoned = await storePoisoned(
        env.db,
        env.services.images,
        { id: images[0] as string, owner_id: user.id },
        "broken.png",
      );
      // A job whose email is off: the webhook still goes.
      const { job } = await submitJob(user, {
        image_ids: [...images, poisoned],
        task: THUMBNAIL,
        notify: "never",
      });
      const done = await waitForJobApi(user, job.id);
      expect(done.status).toBe("partially_failed");
      const hit = await waitFor("the delivery", async () =>
        hits.find((h) => h.body.includes(job.id)),
      );
      expect(hit.headers.get("pictor-event")).toBe("job.partially_failed");
      const check = await verifyWebhookSignature(
        hook.secret,
        hit.body,
        hit.headers.get("pictor-signature"),
      );
      expect(check.valid).toBe(true);
      const payload = JSON.parse(hit.body);
      expect(payload.type).toBe("job.partially_failed");
      expect(payload.id).toBe(hit.headers.get("pictor-delivery"));
      expect(payload.data.job).toMatchObject({
        id: job.id,
        owner_id: user.id,
        status: "partially_failed",
        counts: { total: 3, succeeded: 2, failed: 1, canceled: 0 },
        failed_items: [{ image_id: poisoned, filename: "broken.png" }],
      });
      expect(payload.data.job.results.map((r: { filename: string }) => r.filename)).toEqual([
        "001-photo-0.png",
        "002-photo-1.png",
      ]);
      expect(payload.data.links.results).toBe(`https://pictor.test/v1/jobs/${job.id}/results.zip`);
      const rows = await waitFor("the webhook marked sent", async () => {
        const list = (await (await user.app.request(`/v1/jobs/${job.id}`)).json()) as {
          notifications: Notification[];
        };
        return list.notifications[0]?.status === "sent" ? list.notifications : null;
      });
      expect(rows.map((n) => [n.channel, n.target, n.status])).toEqual([
        ["webhook", hook.id, "sent"],
      ]);
      expect(hits.filter((h) => h.body.includes(job.id))).toHaveLength(1);
      expect(smtp.received.filter((m) => m.envelopeTo.includes(user.email))).toHaveLength(0);
    });
  });

  run(`job notifications without SMTP_URL: the outbox [${kind}]`, () => {
    let env: ApiEnv;
    beforeAll(async () => {
      env = await openApiEnv(kind);
    });
    afterAll(() => env?.close());

    test("the email shows in GET /v1/me/outbox; preferences and a job's notify decide whether there is one", async () => {
      const { user } = env;
      const [image] = await uploadImages(user, 1, 2200);
      const { job } = await submitJob(user, { image_ids: [image], task: THUMBNAIL });
      await waitForJobApi(user, job.id);
      const outbox = async () =>
        (
          (await (await user.app.request("/v1/me/outbox")).json()) as {
            items: {
              to: string;
              subject: string;
              notification_id: string;
              attachments: unknown[];
            }[];
          }
        ).items;
      const [mail] = await waitFor("the outbox entry", async () => {
        const items = await outbox();
        return items.length > 0 ? items : null;
      });
      expect(mail?.to).toBe(user.email);
      expect(mail?.subject).toBe("[Pictor] Transform job succeeded: 1 of 1 item succeeded");
      expect(mail?.attachments).toEqual([
        { filename: "001-photo-0.png", content_type: "image/png", bytes: expect.any(Number) },
      ]);
      // Written to the outbox, not sent: the job says so, once the dispatcher has recorded the
      // delivery (the mailer writes the outbox entry just before, as an SMTP send would be).
      const rows = await waitFor("the notification's outcome", async () => {
        const found = await notificationsOf(env, job.id);
        return found.every((n) => n.status !== "sending") ? found : null;
      });
      expect(rows.map((n) => [n.channel, n.status])).toEqual([["email", "outboxed"]]);
      expect(mail?.notification_id).toBe(rows[0]?.id as string);
      expect(
        ((await (await env.other.app.request("/v1/me/outbox")).json()) as { items: [] }).items,
      ).toEqual([]);

      // Only failures, from now on: a succeeding job sends nothing…
      const patched = await user.app.request("/v1/me/notifications", {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: "failure" }),
      });
      expect(await patched.json()).toEqual({ email: "failure" });
      const quiet = await submitJob(user, { image_ids: [image], task: THUMBNAIL });
      await waitForJobApi(user, quiet.job.id);
      expect(await notificationsOf(env, quiet.job.id)).toEqual([]);
      // …unless the job says otherwise.
      const loud = await submitJob(user, { image_ids: [image], task: THUMBNAIL, notify: "always" });
      await waitForJobApi(user, loud.job.id);
      expect((await notificationsOf(env, loud.job.id)).map((n) => n.channel)).toEqual(["email"]);
      await waitFor("the second outbox entry", async () => (await outbox()).length === 2);
    });
  });
}
