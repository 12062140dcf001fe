import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import type { S3Settings } from "../../src/config/config.ts";

/** s3rver's one built-in key pair: it checks every request's signature against it. */
const S3RVER_KEY = "S3RVER";

export type TestS3 = {
  /** The settings of a fresh bucket of its own (`prefix` empty). */
  settings: S3Settings;
  /** The variables a spawned server needs to use that bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
  /** Removes its files at once (at process exit, when there is no time to close it). */
  removeFiles(): void;
};

/**
 * A real S3-protocol server (s3rver, files under a temporary directory) on 127.0.0.1, with one
 * bucket: started by the suites that run with BLOB_STORE=s3, closed (and its files removed) by them.
 */
export async function startTestS3(bucket = "pictor-test"): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "pictor-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const settings: S3Settings = {
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    bucket,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    forcePathStyle: true,
    prefix: "",
  };
  return {
    settings,
    env: {
      BLOB_STORE: "s3",
      S3_ENDPOINT: settings.endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: S3RVER_KEY,
      S3_SECRET_ACCESS_KEY: S3RVER_KEY,
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
    removeFiles: () => rmSync(directory, { recursive: true, force: true }),
  };
}
