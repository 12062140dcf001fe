import { createTransport } from "nodemailer";
import { DeliveryError } from "../../features/notifications/delivery-error.ts";
import type { Mailer } from "../../platform/mailer.ts";

export type SmtpMailerOptions = {
  /** smtp://user:pass@host:port or smtps://… (nodemailer's connection URL, query options too). */
  url: string;
  /** The From header, e.g. `Pictor <pictor@example.com>`. */
  from: string;
  /** Limit for connecting, the greeting and each socket wait: a dead server fails fast. */
  timeoutMs: number;
};

type NodemailerError = Error & { code?: string; responseCode?: number; response?: string };

/**
 * Whether retrying cannot help: the server refused this recipient or this message for good
 * (a 5xx reply to RCPT TO or DATA). A refused login stays transient: an operator fixes the
 * credentials and the queued emails go out.
 */
function isPermanent(err: NodemailerError): boolean {
  const code = err.responseCode ?? 0;
  return code >= 500 && code < 600 && (err.code === "EENVELOPE" || err.code === "EMESSAGE");
}

/** `ESOCKET connect ECONNREFUSED 127.0.0.1:2525`, or the server's reply when there is one. */
function describeSmtpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodemailerError;
  const parts = [e.code, e.message];
  if (e.response && !e.message.includes(e.response)) parts.push(`(${e.response})`);
  return parts.filter(Boolean).join(" ");
}

/**
 * The SMTP mailer (nodemailer), used when SMTP_URL is set. One connection per message: emails
 * are rare (one per finished job), and a fresh connection never inherits a broken one.
 *
 * @example
 * const mailer = createSmtpMailer({ url: "smtp://127.0.0.1:1025", from: "Pictor <pictor@localhost>", timeoutMs: 15_000 });
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    // Attachments are always bytes we read: never let a message pull in a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    kind: "smtp",
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          ...(message.messageId ? { messageId: message.messageId } : {}),
          attachments: (message.attachments ?? []).map((a) => ({
            filename: a.filename,
            contentType: a.contentType,
            content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength),
          })),
        });
        return { messageId: info.messageId };
      } catch (err) {
        throw new DeliveryError(describeSmtpError(err), isPermanent(err as NodemailerError));
      }
    },
    async close() {
      transport.close();
    },
  };
}
