import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import type {
  PinnedRequest,
  PinnedResponse,
  PostPinned,
} from "../../features/notifications/webhooks/webhook-service.ts";
import type { ResolveHost } from "../../features/notifications/webhooks/webhook-target.ts";

/**
 * Every address the system resolver gives for a name (getaddrinfo, both families, in its order):
 * the same answer the HTTP client would have used, so the check sees what a connection would.
 */
export const resolveWithDns: ResolveHost = async (hostname) => {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Most bytes of a response read (headers and a little body), then the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A POST to a checked address. The URL keeps its host name (Host header, TLS SNI and certificate
 * check all use it) while `lookup` is replaced by one that only ever answers the checked address:
 * the connection cannot go anywhere the policy did not see. `ca` adds trusted certificates
 * (tests, private CAs).
 *
 * @example
 * const post = createPinnedPost();
 * await post({ target, headers, body, timeoutMs: 10_000 }); // { status: 204, location: null }
 */
export function createPinnedPost(options: { ca?: string | Buffer } = {}): PostPinned {
  return (request: PinnedRequest) =>
    new Promise<PinnedResponse>((resolve, reject) => {
      const { target } = request;
      const pinned = (_host: string, opts: { all?: boolean }, callback: LookupCallback) => {
        if (opts.all) callback(null, [{ address: target.address, family: target.family }]);
        else callback(null, target.address, target.family);
      };
      const body = Buffer.from(request.body, "utf8");
      const client = target.url.protocol === "https:" ? https : http;
      const req = client.request(
        target.url,
        {
          method: "POST",
          headers: { ...request.headers, "Content-Length": String(body.byteLength) },
          lookup: pinned as unknown as typeof import("node:dns").lookup,
          timeout: request.timeoutMs,
          agent: false,
          ...(options.ca ? { ca: options.ca } : {}),
        },
        (res) => {
          let seen = 0;
          const done = () => {
            const location = res.headers.location;
            resolve({ status: res.statusCode ?? 0, location: location ?? null });
          };
          res.on("data", (chunk: Buffer) => {
            seen += chunk.byteLength;
            // A receiver's body is not ours to read: stop once we have enough to be polite.
            if (seen > MAX_RESPONSE_BYTES) {
              res.destroy();
              done();
            }
          });
          res.on("end", done);
          res.on("error", (err) => reject(err));
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      req.on("timeout", () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
      req.on("error", (err) => reject(err));
      req.on("close", () => clearTimeout(timer));
      req.end(body);
    });
}
