import type { ObjectStore } from "../../platform/object-store.ts";

/**
 * The part of a Workers R2 binding (`env.BUCKET`, an `R2Bucket`) this store uses, typed here so
 * that nothing else needs Cloudflare's types: see
 * https://developers.cloudflare.com/r2/api/workers/workers-api-reference/
 */
export interface R2BucketLike {
  put(key: string, value: ArrayBuffer | ArrayBufferView | Blob | ReadableStream): Promise<unknown>;
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{ body: ReadableStream<Uint8Array> } | null>;
  head(key: string): Promise<{ key: string; size: number; uploaded: Date } | null>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{
    objects: { key: string; size: number; uploaded: Date }[];
    truncated: boolean;
    cursor?: string;
  }>;
}

/**
 * An ObjectStore over a Workers R2 binding, for the edge entry: its BlobStore is
 * `createPostgresBlobStore(sql, createR2ObjectStore(env.BUCKET))`. R2 takes a Blob or a stream
 * of known length itself (it does its own multipart), signs nothing (`presign` absent: downloads
 * are proxied) and needs no credentials check (a binding that exists works).
 *
 * @example
 * const objects = createR2ObjectStore(env.IMAGES);
 */
export function createR2ObjectStore(bucket: R2BucketLike, name = "r2"): ObjectStore {
  return {
    name,
    async put(key, body) {
      await bucket.put(key, body);
    },
    async get(key, range) {
      const object = await bucket.get(
        key,
        range ? { range: { offset: range.start, length: range.end - range.start + 1 } } : {},
      );
      return object?.body ?? null;
    },
    async head(key) {
      const object = await bucket.head(key);
      return object ? { key, size: object.size, lastModified: object.uploaded } : null;
    },
    delete: (key) => bucket.delete(key),
    async *list(prefix) {
      let cursor: string | undefined;
      do {
        const page = await bucket.list(cursor ? { prefix, cursor } : { prefix });
        for (const o of page.objects) yield { key: o.key, size: o.size, lastModified: o.uploaded };
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
    },
    async check() {
      await bucket.head("blobs/");
    },
  };
}
