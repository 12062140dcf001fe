import { uuidv7 } from "../../../core/lib/uuid.ts";
import type { Sql } from "../../../platform/database.ts";
import type { Logger } from "../../../platform/logger.ts";
import type { Mailer } from "../../../platform/mailer.ts";

/** A Message-ID for a notification: the same one on every retry. */
export function notificationMessageId(notificationId: string, publicUrl: string): string {
  let host = "pictor.localhost";
  try {
    host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, "") || host;
  } catch {
    // keep the fallback: a Message-ID needs some domain, not a resolvable one
  }
  return `<${notificationId}@${host}>`;
}

export type OutboxEntry = {
  id: string;
  message_id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content_type: string; bytes: number }[];
  notification_id: string | null;
  created_at: string;
};

/**
 * A mailer that sends nothing: each message is written to the `email_outbox` table (its
 * attachments as names and sizes) and logged, so a setup without SMTP shows what would have
 * been sent (`GET /v1/me/outbox`). A message id already in the outbox is not written twice.
 *
 * @example
 * const mailer = createOutboxMailer({ sql, logger, from: "Pictor <pictor@localhost>" });
 * await mailer.send({ to: "ada@example.com", subject: "Hi", text: "…", html: "<p>…</p>" });
 */
export function createOutboxMailer(deps: { sql: Sql; logger: Logger; from: string }): Mailer {
  const { sql, logger, from } = deps;
  return {
    kind: "outbox",
    async send(message) {
      const id = uuidv7();
      const messageId = message.messageId ?? `<${id}@pictor.localhost>`;
      const attachments = (message.attachments ?? []).map((a) => ({
        filename: a.filename,
        content_type: a.contentType,
        bytes: a.content.byteLength,
      }));
      await sql`
        INSERT INTO email_outbox (id, owner_id, notification_id, message_id, sender, recipient,
                                  subject, text_body, html_body, attachments)
        VALUES (${id}, ${message.ownerId ?? null}, ${message.notificationId ?? null}, ${messageId},
                ${from}, ${message.to}, ${message.subject}, ${message.text}, ${message.html},
                ${sql.json(attachments)})
        ON CONFLICT (message_id) DO NOTHING`;
      logger.info("email written to the outbox (SMTP_URL is not set)", {
        to: message.to,
        subject: message.subject,
        message_id: messageId,
        attachments: attachments.length,
      });
      return { messageId };
    },
  };
}
