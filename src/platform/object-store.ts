/** A stored object as a listing or a HEAD request describes it. */
export type ObjectInfo = { key: string; size: number; lastModified: Date };

/** Bytes `start` to `end`, both included (as in an HTTP `Range: bytes=start-end`). */
export type ByteRange = { start: number; end: number };

/**
 * Bytes to store: in memory, or a Blob (an upload's spool file, `Bun.file`), which a store
 * sends on in slices or as a stream without holding it whole.
 */
export type BlobBody = Uint8Array | Blob;

/**
 * Bytes under keys in an object storage service (S3, MinIO, R2): the store behind BlobStore's
 * `object` location. It knows nothing of records: which keys are still needed is the blob
 * store's business (its rows), and what no row needs is collected by the blob garbage collector.
 */
export interface ObjectStore {
  /** A name for messages and logs: `s3://bucket/prefix`, `r2`, `memory`. */
  readonly name: string;
  /** Stores `body` under `key`, replacing what was there; done when the store has it all. */
  put(key: string, body: BlobBody): Promise<void>;
  /** The bytes under `key` (or the `range` of them, which must lie inside), or null. */
  get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes `key`; nothing happens when it is not there. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, a page at a time. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * A URL that answers a GET of `key` for `ttlSeconds`, with the response headers given, where
   * the service can sign one (S3); absent otherwise.
   */
  presign?(
    key: string,
    options: { ttlSeconds: number; contentType: string; contentDisposition: string },
  ): Promise<string>;
  /** Throws, naming what failed, when the store cannot be used (no such bucket, refused keys). */
  check(): Promise<void>;
}

/** The bytes of `body` in one buffer. */
export async function bodyBytes(body: BlobBody): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await body.arrayBuffer());
}

/** `body` as a stream. */
export function bodyStream(body: BlobBody): ReadableStream<Uint8Array> {
  if (!(body instanceof Uint8Array)) return body.stream();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
}

/** The size of `body` in bytes. */
export const bodySize = (body: BlobBody): number =>
  body instanceof Uint8Array ? body.length : body.size;

/** Bytes `start` to `end` (excluded) of `body`, without copying a Blob's. */
export const bodySlice = (body: BlobBody, start: number, end: number): BlobBody =>
  body instanceof Uint8Array ? body.subarray(start, end) : body.slice(start, end);

/**
 * An object store in this process's memory, for tests and as the model of the contract.
 *
 * @example
 * const blobs = createPostgresBlobStore(sql, createMemoryObjectStore());
 */
export function createMemoryObjectStore(): ObjectStore & { keys(): string[] } {
  const objects = new Map<string, { bytes: Uint8Array; lastModified: Date }>();
  const info = (key: string) => {
    const object = objects.get(key);
    return object ? { key, size: object.bytes.length, lastModified: object.lastModified } : null;
  };
  return {
    name: "memory",
    keys: () => [...objects.keys()],
    async put(key, body) {
      objects.set(key, { bytes: (await bodyBytes(body)).slice(), lastModified: new Date() });
    },
    async get(key, range) {
      const object = objects.get(key);
      if (!object) return null;
      return bodyStream(range ? object.bytes.subarray(range.start, range.end + 1) : object.bytes);
    },
    head: async (key) => info(key),
    async delete(key) {
      objects.delete(key);
    },
    async *list(prefix) {
      for (const key of [...objects.keys()].sort()) {
        const found = key.startsWith(prefix) && info(key);
        if (found) yield found;
      }
    },
    async check() {},
  };
}
