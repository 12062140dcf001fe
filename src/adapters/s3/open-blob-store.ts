import type { BlobSettings } from "../../config/config.ts";
import type { BlobStore } from "../../platform/blob-store.ts";
import type { Sql } from "../../platform/database.ts";
import type { ObjectStore } from "../../platform/object-store.ts";
import { createPostgresBlobStore } from "../postgres/postgres-blob-store.ts";
import { createS3ObjectStore } from "./s3-object-store.ts";

/** How long a presigned download URL (S3_DOWNLOADS=redirect) stays valid. */
const DIRECT_DOWNLOAD_SECONDS = 300;

export type OpenedBlobStore = {
  blobs: BlobStore;
  /** The object store new bytes go to, or null (BLOB_STORE=postgres). */
  objects: ObjectStore | null;
  directDownloads: { ttlSeconds: number } | undefined;
};

/**
 * The blob store BLOB_STORE selects, checked before the process serves anything: a missing
 * bucket, refused credentials or an unreachable endpoint throw, naming what failed. With
 * BLOB_STORE=postgres and the S3_* settings given (an installation being moved back from S3),
 * blobs still in the bucket are read from it while new ones go to Postgres.
 *
 * @example
 * const { blobs, objects } = await openBlobStore(db.sql, config.blobs);
 */
export async function openBlobStore(sql: Sql, settings: BlobSettings): Promise<OpenedBlobStore> {
  if (!settings.s3) {
    return { blobs: createPostgresBlobStore(sql), objects: null, directDownloads: undefined };
  }
  const objects = await openObjectStore(settings.s3);
  const writeTo = settings.store === "s3" ? "object" : "postgres";
  return {
    blobs: createPostgresBlobStore(sql, objects, writeTo),
    objects: settings.store === "s3" ? objects : null,
    directDownloads:
      settings.downloads === "redirect" ? { ttlSeconds: DIRECT_DOWNLOAD_SECONDS } : undefined,
  };
}

/** The S3 object store of `s3`, once its bucket and credentials answered. */
export async function openObjectStore(s3: NonNullable<BlobSettings["s3"]>): Promise<ObjectStore> {
  const objects = createS3ObjectStore(s3);
  await objects.check();
  return objects;
}
