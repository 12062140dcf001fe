import type postgres from "postgres";
import { FILE_EXTENSIONS, type ImageFormat } from "../../core/formats/probe.ts";
import { filenameStem } from "../../core/lib/filenames.ts";
import { ZIP_MAX_BYTES, ZIP_MAX_ENTRIES, type ZipEntry } from "../../core/lib/zip.ts";
import { HistogramTaskSchema, type TaskSpec } from "../../core/pipeline/task-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import type { Principal } from "../accounts/index.ts";
import type { AnalysisService } from "../analysis/index.ts";
import type { ImageService } from "../images/index.ts";
import {
  type FailedItem,
  JOB_OUTCOMES,
  type JobOutcome,
  type JobResultFile,
  type JobSummary,
} from "../notifications/index.ts";
import type { SegmentationService } from "../segmentations/index.ts";
import type { JobRecord, ResultKind } from "./types.ts";

/**
 * Results are read on behalf of a job whose access was checked already (the caller's, or the
 * dispatcher attaching them to its owner's email): by the job's own links, not by who owns each
 * result (an admin's job makes results that belong to the images' owners).
 */
const JOB_READER: Principal = {
  userId: "00000000-0000-0000-0000-000000000000",
  role: "admin",
  via: "token",
  keyId: null,
};

/**
 * A job summary lists its results only up to this many (NOTIFY_ATTACH_MAX_FILES is at most 100,
 * so a longer list would never be attached): past it, emails and webhooks link to results.zip
 * instead of carrying a list that every notification row would store.
 */
const SUMMARY_RESULTS = 100;
const SUMMARY_FAILURES = 50;
const PAGE = 200;

type ResultRow = {
  item_id: string;
  position: number;
  image_id: string;
  result_id: string;
  result_kind: ResultKind;
  finished_at: Date;
  source_filename: string | null;
  /** Of a derived image (null when it was deleted since, or for other kinds). */
  format: string | null;
  byte_size: string | null;
  /** False when the result (or, for a histogram, its image) was deleted since. */
  present: boolean;
};

type FileKind = "image" | "histogram" | "mask" | "segmentation";

/** A result file as the archive and the notifications list it. */
export type ResultFile = JobResultFile & { modified: Date };

function filesOf(row: ResultRow, digits: number): ResultFile[] {
  if (!row.present) return [];
  const prefix = `${String(row.position + 1).padStart(digits, "0")}-${filenameStem(row.source_filename, row.image_id)}`;
  const file = (kind: FileKind, id: string, filename: string, type: string, bytes?: number) => ({
    id: `${kind}:${id}`,
    filename,
    content_type: type,
    bytes: bytes ?? null,
    modified: row.finished_at,
  });
  switch (row.result_kind) {
    case "image": {
      const format = row.format ?? "png";
      return [
        file(
          "image",
          row.result_id,
          `${prefix}.${FILE_EXTENSIONS[format as ImageFormat] ?? format}`,
          `image/${format}`,
          Number(row.byte_size),
        ),
      ];
    }
    case "histogram":
      return [file("histogram", row.item_id, `${prefix}.histogram.json`, "application/json")];
    case "segmentation":
      return [
        file("mask", row.result_id, `${prefix}.mask.png`, "image/png"),
        file("segmentation", row.result_id, `${prefix}.segmentation.json`, "application/json"),
      ];
  }
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

async function collect(data: Uint8Array | ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return data instanceof Uint8Array ? data : new Uint8Array(await new Response(data).arrayBuffer());
}

export type JobResults = ReturnType<typeof createJobResults>;

/**
 * The files a job produced, for results.zip and for email attachments: a derived image as
 * itself, a histogram as JSON, a segmentation as its binary mask (PNG) and its regions (JSON).
 * Names start with the item's position, so they sort in the job's order and never collide.
 */
export function createJobResults(deps: {
  sql: Sql;
  images: ImageService;
  analysis: AnalysisService;
  segmentations: SegmentationService;
}) {
  const { sql, images, analysis, segmentations } = deps;

  async function page(
    db: postgres.ISql,
    jobId: string,
    after: number,
    limit: number,
  ): Promise<ResultRow[]> {
    return db<ResultRow[]>`
      SELECT i.id AS item_id, i.position, i.image_id, i.result_id, i.result_kind, i.finished_at,
             src.filename AS source_filename, d.format, d.byte_size::text AS byte_size,
             CASE i.result_kind
               WHEN 'image' THEN d.id IS NOT NULL
               WHEN 'segmentation' THEN EXISTS (SELECT 1 FROM segmentations s WHERE s.id = i.result_id)
               ELSE src.id IS NOT NULL
             END AS present
      FROM job_items i
      LEFT JOIN images src ON src.id = i.image_id
      LEFT JOIN images d ON i.result_kind = 'image' AND d.id = i.result_id
      WHERE i.job_id = ${jobId} AND i.status = 'succeeded' AND i.position > ${after}
      ORDER BY i.position LIMIT ${limit}`;
  }

  /** Every result file of `job`, in item order, read from the database a page at a time. */
  async function* files(job: JobRecord, db: postgres.ISql = sql): AsyncGenerator<ResultFile> {
    const digits = Math.max(3, String(job.progress.total).length);
    for (let after = -1; ; ) {
      const rows = await page(db, job.id, after, PAGE);
      for (const row of rows) yield* filesOf(row, digits);
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = last.position;
    }
  }

  /**
   * The bytes of one result file of job `jobId` (a derived image as a stream), or null when it
   * is gone. Only files of that job are read: the id names a result, and the job must list it.
   */
  async function read(
    jobId: string,
    fileId: string,
  ): Promise<Uint8Array | ReadableStream<Uint8Array> | null> {
    const [kind, id = ""] = fileId.split(":") as [FileKind, string | undefined];
    const [item] = await sql<{ image_id: string; params: TaskSpec }[]>`
      SELECT i.image_id, j.params FROM job_items i JOIN jobs j ON j.id = i.job_id
      WHERE i.job_id = ${jobId} AND i.status = 'succeeded'
        AND ${kind === "histogram" ? sql`i.id = ${id}` : sql`i.result_id = ${id}`}`;
    if (!item) return null;
    try {
      switch (kind) {
        case "image":
          return await images.openFile(await images.get(JOB_READER, id));
        case "histogram": {
          const params = item.params;
          const task = HistogramTaskSchema.parse("histogram" in params ? params.histogram : {});
          const { result } = await analysis.histogram(JOB_READER, item.image_id, task);
          return json({ image_id: item.image_id, ...result });
        }
        case "mask": {
          const mask = await segmentations.mask(JOB_READER, id, { kind: "binary", format: "png" });
          return mask.format === "png" ? mask.bytes : null;
        }
        case "segmentation":
          return json(await segmentations.get(JOB_READER, id));
        default:
          return null;
      }
    } catch (err) {
      // Deleted between the listing and the read.
      if (err instanceof ApiError && err.code === "not_found") return null;
      throw err;
    }
  }

  return {
    files,
    read,

    /** The bytes of a result file in full (an email attachment). */
    async readBytes(jobId: string, fileId: string): Promise<Uint8Array> {
      const data = await read(jobId, fileId);
      if (!data) throw new Error(`Result ${fileId} of job ${jobId} is gone`);
      return collect(data);
    },

    /**
     * The archive's entries, after checking it fits in a ZIP without ZIP64 (413 otherwise).
     * Files deleted while the archive streams are left out.
     */
    async archive(job: JobRecord): Promise<AsyncIterable<ZipEntry>> {
      const [size] = await sql<{ files: number; bytes: string }[]>`
        SELECT count(*)::int + count(*) FILTER (WHERE i.result_kind = 'segmentation')::int AS files,
               coalesce(sum(d.byte_size), 0)::text AS bytes
        FROM job_items i LEFT JOIN images d ON i.result_kind = 'image' AND d.id = i.result_id
        WHERE i.job_id = ${job.id} AND i.status = 'succeeded'`;
      const count = size?.files ?? 0;
      const bytes = Number(size?.bytes ?? 0);
      // Headers and the other kinds' files (JSON, masks) are small beside images: keep 5 % spare.
      if (count > ZIP_MAX_ENTRIES || bytes > ZIP_MAX_BYTES * 0.95) {
        throw new ApiError(
          "payload_too_large",
          `The results are ${count} files of ${bytes} bytes; results.zip holds at most ${ZIP_MAX_ENTRIES} files and 4 GiB: download them one by one (GET /v1/jobs/${job.id}/items)`,
        );
      }
      const all = files(job);
      return (async function* () {
        for await (const file of all) {
          yield { name: file.filename, modified: file.modified, data: () => read(job.id, file.id) };
        }
      })();
    },

    /**
     * What notifications know of a finished job, read inside the transaction that finishes it.
     * Null for a job without owner (nobody to notify).
     */
    async summarize(tx: Transaction, job: JobRecord): Promise<JobSummary | null> {
      const status = JOB_OUTCOMES.find((s) => s === job.status);
      if (!job.owner_id || !job.finished_at || !status) return null;
      const failed = await tx<FailedItem[]>`
        SELECT i.image_id, src.filename, coalesce(i.error, 'failed') AS error
        FROM job_items i LEFT JOIN images src ON src.id = i.image_id
        WHERE i.job_id = ${job.id} AND i.status = 'failed'
        ORDER BY i.position LIMIT ${SUMMARY_FAILURES}`;
      const results: JobResultFile[] = [];
      if (job.progress.done <= SUMMARY_RESULTS) {
        for await (const { modified: _, ...file } of files(job, tx)) results.push(file);
      }
      return {
        id: job.id,
        owner_id: job.owner_id,
        kind: job.kind,
        status: status satisfies JobOutcome,
        counts: {
          total: job.progress.total,
          succeeded: job.progress.done,
          failed: job.progress.failed,
          canceled: job.progress.canceled,
        },
        created_at: job.created_at,
        started_at: job.started_at,
        finished_at: job.finished_at,
        error: job.error,
        failed_items: [...failed],
        results,
      };
    },
  };
}
