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
 * bucket, refused credentials or an unreachable endpoint throw, naming what failed.
 *
 * @example
 * const { blobs, objects } = await openBlobStore(db.sql, config.blobs);
 */
export async function openBlobStore(sql: Sql, settings: BlobSettings): Promise<OpenedBlobStore> {
  if (settings.store !== "s3" || !settings.s3) {
    return { blobs: createPostgresBlobStore(sql), objects: null, directDownloads: undefined };
  }
  const objects = await openObjectStore(settings.s3);
  return {
    blobs: createPostgresBlobStore(sql, objects),
    objects,
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
