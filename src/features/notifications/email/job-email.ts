import {
  type FailedItem,
  type JobOutcome,
  type JobResultFile,
  type JobSummary,
  jobLinks,
} from "../job-summary.ts";

export type AttachmentLimits = {
  /** Most result files attached; more and the email only links to the archive. */
  maxFiles: number;
  /** Largest total size of the attached files, in bytes. */
  maxBytes: number;
};

/** Where the email's links go; signed URLs, so that they open without a credential. */
export type JobEmailLinks = { job: string; items: string; results: string };

export type JobEmailOptions = {
  /** Base of the links, e.g. https://pictor.example.com (PUBLIC_URL). */
  publicUrl: string;
  /** The links themselves (signed); unsigned ones under `publicUrl` otherwise. */
  links?: JobEmailLinks | undefined;
  /** Limits for attaching results, or false to only link to them. */
  attach: AttachmentLimits | false;
  /** Failed items listed one by one before "…and N more" (default 50). */
  maxListedFailures?: number;
};

export type JobEmail = {
  subject: string;
  text: string;
  html: string;
  /** The results to attach (their bytes are read by the sender); empty when only linked. */
  attachments: JobResultFile[];
};

const OUTCOME_WORDS: Record<JobOutcome, string> = {
  succeeded: "succeeded",
  partially_failed: "partially failed",
  failed: "failed",
  canceled: "was canceled",
};

/**
 * Escapes text for HTML element content and double- or single-quoted attribute values.
 *
 * @example
 * escapeHtml(`<img src=x onerror="alert(1)">`); // "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/**
 * A duration for people: "850 ms", "12.4 s", "3 min 05 s", "2 h 03 min".
 *
 * @example
 * formatDuration(185_000); // "3 min 05 s"
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/**
 * The results to attach: all of them when there are at most `maxFiles`, every size is known and
 * they add up to at most `maxBytes`; otherwise none (a partial set would look complete).
 *
 * @example
 * planAttachments([{ id: "a", filename: "a.webp", content_type: "image/webp", bytes: 900 }],
 *   { maxFiles: 5, maxBytes: 5 * 1024 * 1024 }); // [that file]
 */
export function planAttachments(
  results: readonly JobResultFile[],
  limits: AttachmentLimits,
): JobResultFile[] {
  if (results.length === 0 || results.length > limits.maxFiles) return [];
  let total = 0;
  for (const r of results) {
    if (r.bytes === undefined || r.bytes === null) return [];
    total += r.bytes;
  }
  return total <= limits.maxBytes ? [...results] : [];
}

function countsLine(s: JobSummary): string {
  const { total, succeeded, failed, canceled } = s.counts;
  let line = `${succeeded} of ${total} item${total === 1 ? "" : "s"} succeeded`;
  if (failed > 0) line += `, ${failed} failed`;
  if (canceled > 0) line += `, ${canceled} canceled`;
  return line;
}

function itemLabel(item: FailedItem): string {
  const name = item.filename ?? null;
  const id = item.image_id ?? null;
  if (name && id) return `${name} (image ${id})`;
  return name ?? (id ? `image ${id}` : "an item");
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ").trim();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The email telling a job's owner how it ended: subject, plain text and HTML (every value from the
 * job escaped), and which results to attach.
 *
 * @example
 * const email = buildJobEmail(summary, {
 *   publicUrl: "https://pictor.example.com",
 *   attach: { maxFiles: 5, maxBytes: 5 * 1024 * 1024 },
 * });
 * email.subject; // "[Pictor] Transform job partially failed: 10 of 12 items succeeded, 2 failed"
 */
export function buildJobEmail(summary: JobSummary, options: JobEmailOptions): JobEmail {
  const unsigned = jobLinks(options.publicUrl, summary.id);
  const links = options.links ?? { ...unsigned, items: `${unsigned.job}/items` };
  const itemsLink = links.items;
  const kind = summary.kind ? oneLine(summary.kind) : "";
  const title = kind ? `${kind.charAt(0).toUpperCase()}${kind.slice(1)} job` : "Job";
  const outcome = OUTCOME_WORDS[summary.status];
  const counts = countsLine(summary);
  const subject = `[Pictor] ${title} ${outcome}: ${counts}`;

  const started = summary.started_at ? Date.parse(summary.started_at) : null;
  const finished = Date.parse(summary.finished_at);
  const duration = started === null ? "not started" : formatDuration(finished - started);
  const hasResults = summary.results.length > 0 || summary.counts.succeeded > 0;
  const attachments = options.attach ? planAttachments(summary.results, options.attach) : [];
  const listed = summary.failed_items.slice(0, options.maxListedFailures ?? 50);
  const unlisted = Math.max(summary.counts.failed, summary.failed_items.length) - listed.length;

  const facts: [string, string][] = [
    ["Job", summary.id],
    [
      "Items",
      `${summary.counts.total} total: ${summary.counts.succeeded} succeeded, ${summary.counts.failed} failed, ${summary.counts.canceled} canceled`,
    ],
    ["Started", summary.started_at ?? "never"],
    ["Finished", summary.finished_at],
    ["Duration", duration],
  ];
  if (summary.error) facts.push(["Reason", oneLine(summary.error)]);

  const text: string[] = [`Your ${title.toLowerCase()} ${outcome}: ${counts}.`, ""];
  const width = Math.max(...facts.map(([k]) => k.length)) + 2;
  for (const [k, v] of facts) text.push(`${`${k}:`.padEnd(width)}${v}`);
  text.push("", `Link:     ${links.job}`);
  if (hasResults) text.push(`Results:  ${links.results}`);
  if (listed.length > 0) {
    text.push("", `Failed items (${summary.counts.failed}):`);
    for (const item of listed) text.push(`- ${oneLine(itemLabel(item))}: ${oneLine(item.error)}`);
    if (unlisted > 0) text.push(`…and ${unlisted} more: ${itemsLink}`);
  }
  if (attachments.length > 0) {
    text.push(
      "",
      `Attached: ${attachments.length} result file${attachments.length === 1 ? "" : "s"} (${attachments.map((a) => a.filename).join(", ")}).`,
    );
  }
  text.push("", "You receive this because email notifications are on for your Pictor account.");

  const e = escapeHtml;
  const link = (href: string, label = href) => `<a href="${e(href)}">${e(label)}</a>`;
  const html: string[] = [
    "<!doctype html>",
    '<html><head><meta charset="utf-8"></head>',
    '<body style="font-family: system-ui, sans-serif; line-height: 1.4; color: #222;">',
    `<h2 style="margin: 0 0 0.5em;">${e(title)} ${e(outcome)}</h2>`,
    `<p>${e(counts)}.</p>`,
    '<table style="border-collapse: collapse;">',
    ...facts.map(
      ([k, v]) =>
        `<tr><th style="text-align: left; padding: 2px 12px 2px 0;">${e(k)}</th><td>${e(v)}</td></tr>`,
    ),
    "</table>",
    `<p>${link(links.job, "View the job")}${hasResults ? ` · ${link(links.results, "Download the results (.zip)")}` : ""}</p>`,
  ];
  if (listed.length > 0) {
    html.push(`<h3>Failed items (${summary.counts.failed})</h3>`, "<ul>");
    for (const item of listed)
      html.push(`<li><strong>${e(itemLabel(item))}</strong>: ${e(oneLine(item.error))}</li>`);
    html.push("</ul>");
    if (unlisted > 0) html.push(`<p>…and ${unlisted} more: ${link(itemsLink)}</p>`);
  }
  if (attachments.length > 0) {
    html.push("<p>Attached:</p>", "<ul>");
    for (const a of attachments)
      html.push(`<li>${e(a.filename)} (${e(formatBytes(a.bytes ?? 0))})</li>`);
    html.push("</ul>");
  }
  html.push(
    '<p style="color: #777; font-size: 0.9em;">You receive this because email notifications are on for your Pictor account.</p>',
    "</body></html>",
  );

  return { subject, text: `${text.join("\n")}\n`, html: `${html.join("\n")}\n`, attachments };
}
