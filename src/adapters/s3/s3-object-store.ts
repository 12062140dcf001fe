import { AwsClient } from "aws4fetch";
import type { S3Settings } from "../../config/config.ts";
import {
  type BlobBody,
  bodySize,
  bodySlice,
  type ObjectInfo,
  type ObjectStore,
} from "../../platform/object-store.ts";

/**
 * Files up to this size go up in one PUT; larger ones in parts of this size (S3 wants at least
 * 5 MiB per part but the last).
 */
export const S3_PART_BYTES = 5 * 1024 * 1024;

/** What S3 said, for the log and the startup check: status and its error code. */
export class S3Error extends Error {
  override readonly name = "S3Error";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

const unescapeXml = (text: string) =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");

// Our buffers are never shared memory, which is all that fetch's body type rules out.
const sendable = (body: BlobBody) => body as Blob | Uint8Array<ArrayBuffer>;

// RFC 3986 unreserved characters stay; `/` separates the key's path segments.
const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/**
 * An ObjectStore over any S3-compatible service (AWS S3, MinIO, Cloudflare R2's S3 API, s3rver),
 * signed with aws4fetch (Web APIs only: runs on Bun, Node and Workers). Payloads are sent
 * unsigned (`UNSIGNED-PAYLOAD`, TLS protects them), so a body streams without being hashed first.
 *
 * @example
 * const objects = createS3ObjectStore({ endpoint: "http://minio:9000", region: "us-east-1",
 *   bucket: "pictor", accessKeyId, secretAccessKey, forcePathStyle: true, prefix: "" });
 */
export function createS3ObjectStore(settings: S3Settings): ObjectStore {
  const client = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    region: settings.region,
    service: "s3",
  });
  const endpoint = new URL(settings.endpoint);
  const bucketUrl = settings.forcePathStyle
    ? `${endpoint.origin}${endpoint.pathname.replace(/\/$/, "")}/${settings.bucket}`
    : `${endpoint.protocol}//${settings.bucket}.${endpoint.host}${endpoint.pathname.replace(/\/$/, "")}`;
  const urlOf = (key: string, query = "") =>
    `${bucketUrl}/${encodeKey(settings.prefix + key)}${query}`;

  async function failure(res: Response, what: string): Promise<S3Error> {
    const body = await res.text().catch(() => "");
    const code = tag(body, "Code") ?? res.statusText;
    return new S3Error(res.status, code, `S3 ${what}: HTTP ${res.status} ${code}`);
  }

  async function send(what: string, url: string, init: RequestInit = {}): Promise<Response> {
    const res = await client.fetch(url, init);
    if (!res.ok) throw await failure(res, what);
    return res;
  }

  /**
   * Sends `body` in parts of S3_PART_BYTES, each a slice of it (of a file, read as it is sent); an
   * upload that fails is aborted, not left behind.
   */
  async function putMultipart(key: string, body: BlobBody): Promise<void> {
    const created = await send(`create multipart upload of ${key}`, urlOf(key, "?uploads"), {
      method: "POST",
    });
    const uploadId = tag(await created.text(), "UploadId");
    if (!uploadId)
      throw new S3Error(created.status, "NoUploadId", `S3 gave no UploadId for ${key}`);
    const query = (extra: string) => `?${extra}uploadId=${encodeURIComponent(uploadId)}`;
    const size = bodySize(body);
    try {
      const etags: string[] = [];
      for (let start = 0, part = 1; start < size; start += S3_PART_BYTES, part++) {
        const res = await send(
          `upload part ${part} of ${key}`,
          urlOf(key, query(`partNumber=${part}&`)),
          {
            method: "PUT",
            body: sendable(bodySlice(body, start, Math.min(size, start + S3_PART_BYTES))),
          },
        );
        await res.body?.cancel();
        etags.push(res.headers.get("etag") ?? "");
      }
      const parts = etags
        .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
        .join("");
      const done = await send(`complete multipart upload of ${key}`, urlOf(key, query("")), {
        method: "POST",
        body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
      });
      // S3 may answer 200 with an error in the body once the parts are being joined.
      const text = await done.text();
      if (text.includes("<Error>")) {
        throw new S3Error(200, tag(text, "Code") ?? "Error", `S3 complete of ${key}: ${text}`);
      }
    } catch (err) {
      await client.fetch(urlOf(key, query("")), { method: "DELETE" }).catch(() => {});
      throw err;
    }
  }

  return {
    name: `s3://${settings.bucket}/${settings.prefix}`,

    async put(key, body) {
      if (bodySize(body) <= S3_PART_BYTES) {
        const res = await send(`put ${key}`, urlOf(key), { method: "PUT", body: sendable(body) });
        await res.body?.cancel();
      } else {
        await putMultipart(key, body);
      }
    },

    async get(key, range) {
      const headers: Record<string, string> = range
        ? { Range: `bytes=${range.start}-${range.end}` }
        : {};
      const res = await client.fetch(urlOf(key), { headers });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw await failure(res, `get ${key}`);
      return res.body ?? new Blob([]).stream();
    },

    async head(key) {
      const res = await client.fetch(urlOf(key), { method: "HEAD" });
      if (res.status === 404) return null;
      if (!res.ok) throw await failure(res, `head ${key}`);
      return {
        key,
        size: Number(res.headers.get("content-length") ?? 0),
        lastModified: new Date(res.headers.get("last-modified") ?? 0),
      };
    },

    async delete(key) {
      const res = await client.fetch(urlOf(key), { method: "DELETE" });
      if (!res.ok && res.status !== 404) throw await failure(res, `delete ${key}`);
      await res.body?.cancel();
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        const query = new URLSearchParams({ "list-type": "2", prefix: settings.prefix + prefix });
        if (token) query.set("continuation-token", token);
        const res = await send(`list ${prefix}`, `${bucketUrl}?${query}`);
        const xml = await res.text();
        for (const [, entry = ""] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
          const key = unescapeXml(tag(entry, "Key") ?? "");
          yield {
            key: key.slice(settings.prefix.length),
            size: Number(tag(entry, "Size") ?? 0),
            lastModified: new Date(tag(entry, "LastModified") ?? 0),
          } satisfies ObjectInfo;
        }
        token =
          tag(xml, "IsTruncated") === "true"
            ? unescapeXml(tag(xml, "NextContinuationToken") ?? "")
            : undefined;
      } while (token);
    },

    async presign(key, options) {
      const url = new URL(urlOf(key));
      url.searchParams.set("X-Amz-Expires", String(options.ttlSeconds));
      url.searchParams.set("response-content-type", options.contentType);
      url.searchParams.set("response-content-disposition", options.contentDisposition);
      const signed = await client.sign(url.toString(), { method: "GET", aws: { signQuery: true } });
      return signed.url;
    },

    async check() {
      const where = `bucket ${settings.bucket} at ${settings.endpoint}`;
      let res: Response;
      try {
        // A listing, not a HEAD: some services answer HEAD without checking the signature.
        res = await client.fetch(`${bucketUrl}?list-type=2&max-keys=0`);
      } catch (err) {
        throw new Error(
          `S3_ENDPOINT ${settings.endpoint} cannot be reached: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      const { status, code } = await failure(res, "check");
      if (code === "NoSuchBucket" || status === 404) {
        throw new Error(`S3_BUCKET: there is no ${where} (${code}); create it first`);
      }
      if (status === 403 || status === 401) {
        throw new Error(
          `S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY: ${where} refused the credentials (${code})`,
        );
      }
      if (code === "AuthorizationHeaderMalformed" || code === "PermanentRedirect") {
        throw new Error(`S3_REGION ${settings.region}: ${where} refused it (${code})`);
      }
      throw new Error(`S3 ${where}: HTTP ${status} ${code}`);
    },
  };
}
