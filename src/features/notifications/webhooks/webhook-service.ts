import { uuidv7 } from "../../../core/lib/uuid.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { Sql } from "../../../platform/database.ts";
import { DeliveryError, TargetRefusedError } from "../delivery-error.ts";
import { JOB_EVENTS, type JobEvent, type JobSummary, jobLinks } from "../job-summary.ts";
import { newWebhookSecret, SIGNATURE_HEADER, signWebhook } from "./signature.ts";
import {
  type CheckedTarget,
  type ResolveHost,
  resolveTarget,
  type WebhookPolicy,
} from "./webhook-target.ts";

// ---------------------------------------------------------------------------------------------
// Registration

export type WebhookRecord = {
  id: string;
  url: string;
  events: JobEvent[];
  created_at: string;
};

/** What `create` answers: the only time the signing secret is shown. */
export type CreatedWebhook = WebhookRecord & { secret: string };

type Row = { id: string; url: string; events: JobEvent[]; created_at: Date };

const toRecord = (r: Row): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: r.events,
  created_at: r.created_at.toISOString(),
});

/** Most webhooks one owner may register; each finished job costs one delivery per webhook. */
export const MAX_WEBHOOKS_PER_OWNER = 20;

export type WebhookService = ReturnType<typeof createWebhookService>;

/**
 * Webhook registrations of an owner. A URL is checked when it is registered (shape, https,
 * every resolved address) and again at every delivery and every redirect: DNS answers change.
 */
export function createWebhookService(deps: {
  sql: Sql;
  policy: WebhookPolicy;
  resolve: ResolveHost;
}) {
  const { sql, policy, resolve } = deps;

  return {
    async create(
      ownerId: string,
      input: { url: string; events?: readonly JobEvent[] | undefined },
    ): Promise<CreatedWebhook> {
      const events = [...new Set(input.events ?? JOB_EVENTS)];
      if (events.length === 0)
        throw new ApiError("validation_failed", "Expected at least one event for events", {
          errors: [{ path: "json.events", message: "Expected at least one event" }],
        });
      for (const e of events)
        if (!(JOB_EVENTS as readonly string[]).includes(e)) {
          const message = `Expected one of ${JOB_EVENTS.join(", ")} for events but received ${e}`;
          throw new ApiError("validation_failed", message, {
            errors: [{ path: "json.events", message }],
          });
        }
      try {
        await resolveTarget(input.url, policy, resolve);
      } catch (err) {
        if (!(err instanceof TargetRefusedError)) throw err;
        throw new ApiError("validation_failed", err.message, {
          errors: [{ path: "json.url", message: err.message }],
        });
      }
      const secret = newWebhookSecret();
      const [row] = await sql<Row[]>`
        INSERT INTO webhooks (id, owner_id, url, events, secret)
        SELECT ${uuidv7()}, ${ownerId}, ${input.url}, ${events}, ${secret}
        WHERE (SELECT count(*) FROM webhooks WHERE owner_id = ${ownerId}) < ${MAX_WEBHOOKS_PER_OWNER}
        RETURNING id, url, events, created_at`;
      if (!row)
        throw new ApiError(
          "validation_failed",
          `Expected at most ${MAX_WEBHOOKS_PER_OWNER} webhooks per account: delete one first`,
        );
      return { ...toRecord(row), secret };
    },

    async list(ownerId: string): Promise<WebhookRecord[]> {
      const rows = await sql<Row[]>`
        SELECT id, url, events, created_at FROM webhooks WHERE owner_id = ${ownerId} ORDER BY id`;
      return rows.map(toRecord);
    },

    /** Another owner's webhook is "not found", never "forbidden": ids reveal nothing. */
    async get(ownerId: string, id: string): Promise<WebhookRecord> {
      const [row] = await sql<Row[]>`
        SELECT id, url, events, created_at FROM webhooks WHERE id = ${id} AND owner_id = ${ownerId}`;
      if (!row) throw new ApiError("not_found", `No webhook with id ${id}`);
      return toRecord(row);
    },

    async remove(ownerId: string, id: string): Promise<void> {
      const rows = await sql`DELETE FROM webhooks WHERE id = ${id} AND owner_id = ${ownerId}`;
      if (rows.count === 0) throw new ApiError("not_found", `No webhook with id ${id}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery

export type PinnedRequest = {
  /** The checked target: connect to `address`, send `url`'s host as Host and TLS name. */
  target: CheckedTarget;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
};

export type PinnedResponse = { status: number; location: string | null };

/** POSTs to an already checked address (src/adapters/node/webhook-transport.ts). */
export type PostPinned = (request: PinnedRequest) => Promise<PinnedResponse>;

export type WebhookTransport = { policy: WebhookPolicy; resolve: ResolveHost; post: PostPinned };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Redirects followed per delivery; each hop is checked like the first URL. */
export const MAX_REDIRECTS = 3;

/**
 * POSTs a signed body to a webhook URL, following up to three redirects by hand: every hop's URL
 * and resolved addresses are checked again, and the connection goes to the checked address only.
 * A redirect keeps the method and body (the payload is the point of the call, whatever the code).
 * Resolves on a 2xx; throws a DeliveryError otherwise (permanent when the policy refused a hop).
 *
 * @example
 * await postWebhook({ url, body, headers }, { policy, resolve, post }, 10_000);
 */
export async function postWebhook(
  request: { url: string; body: string; headers: Record<string, string> },
  transport: WebhookTransport,
  timeoutMs: number,
): Promise<{ status: number; url: string; redirects: number }> {
  let url: string | URL = request.url;
  for (let hop = 0; ; hop++) {
    const target = await resolveTarget(url, transport.policy, transport.resolve);
    let response: PinnedResponse;
    try {
      response = await transport.post({
        target,
        headers: request.headers,
        body: request.body,
        timeoutMs,
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DeliveryError(`POST ${target.url.href} failed: ${reason}`, false);
    }
    if (response.status >= 200 && response.status < 300)
      return { status: response.status, url: target.url.href, redirects: hop };
    if (REDIRECTS.has(response.status) && response.location) {
      if (hop >= MAX_REDIRECTS)
        throw new TargetRefusedError(
          `Too many redirects: more than ${MAX_REDIRECTS} from ${request.url}`,
        );
      try {
        url = new URL(response.location, target.url);
      } catch {
        throw new DeliveryError(`Bad redirect Location ${response.location}`, false);
      }
      continue;
    }
    throw new DeliveryError(`POST ${target.url.href} answered HTTP ${response.status}`, false);
  }
}

/**
 * The JSON body of a delivery. `id` is the notification's id: the same on every retry, so a
 * receiver that got it once can ignore a repeat.
 *
 * @example
 * webhookBody("019a…", summary, "https://pictor.example.com", new Date());
 * // {"id":"019a…","type":"job.succeeded","created_at":"…","data":{"job":{…},"links":{…}}}
 */
export function webhookBody(
  notificationId: string,
  event: JobEvent,
  job: JobSummary,
  publicUrl: string,
  createdAt: Date,
): string {
  return JSON.stringify({
    id: notificationId,
    type: event,
    created_at: createdAt.toISOString(),
    data: { job, links: jobLinks(publicUrl, job.id) },
  });
}

/** The headers of a delivery, signed now (a retry is signed again with its own timestamp). */
export async function webhookHeaders(
  secret: string,
  notificationId: string,
  event: JobEvent,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  return {
    "Content-Type": "application/json",
    "User-Agent": "Pictor-Webhooks/1",
    "Pictor-Event": event,
    "Pictor-Delivery": notificationId,
    [SIGNATURE_HEADER]: await signWebhook(secret, body, timestamp),
  };
}
