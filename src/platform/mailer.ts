export type EmailAttachment = { filename: string; contentType: string; content: Uint8Array };

export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: EmailAttachment[];
  /**
   * `<…@…>`: stable across retries of one notification, so a receiving server or client that
   * sees a message twice (the at-least-once edge) can tell it is the same one.
   */
  messageId?: string;
  /** Not sent: whose outbox the message belongs to, and which notification it delivers. */
  ownerId?: string;
  notificationId?: string;
};

/**
 * Sends one email. Implementations: SMTP (adapters/smtp/smtp-mailer.ts, when SMTP_URL is set)
 * and the outbox (features/notifications/email/outbox-mailer.ts, the embedded default). A
 * failure is thrown as a DeliveryError whose `permanent` says whether retrying can help.
 */
export interface Mailer {
  readonly kind: "smtp" | "outbox";
  send(message: EmailMessage): Promise<{ messageId: string }>;
  close?(): Promise<void>;
}
