import {
  type AddressAllowList,
  classifyAddress,
  formatIp,
  isForbiddenAddress,
  isLocalhostName,
  NO_PRIVATE_ADDRESSES,
  normaliseHost,
  parseAllowList,
  parseIp,
} from "../../../core/lib/ip-addresses.ts";
import { TargetRefusedError } from "../delivery-error.ts";

/** Where webhooks may go (WEBHOOK_ALLOW_HTTP_HOSTS, WEBHOOK_ALLOW_PRIVATE). */
export type WebhookPolicy = {
  /** Hosts (names or literals, normalised) that may be reached over plain http. */
  allowHttpHosts: ReadonlySet<string>;
  /** Non-public addresses that may be reached anyway. */
  allowPrivate: AddressAllowList;
};

export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  allowHttpHosts: new Set(),
  allowPrivate: NO_PRIVATE_ADDRESSES,
};

/**
 * The policy from the configuration's lists (WEBHOOK_ALLOW_HTTP_HOSTS, WEBHOOK_ALLOW_PRIVATE).
 *
 * @example
 * webhookPolicy({ allowHttpHosts: ["127.0.0.1"], allowPrivate: ["127.0.0.0/8"] });
 */
export function webhookPolicy(settings: {
  allowHttpHosts: readonly string[];
  allowPrivate: readonly string[];
}): WebhookPolicy {
  return {
    allowHttpHosts: new Set(settings.allowHttpHosts.map(normaliseHost)),
    allowPrivate: parseAllowList(settings.allowPrivate),
  };
}

/** Every address a name resolves to (the runtime's DNS: getaddrinfo, all families). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/** A URL that passed the policy, with the one address to connect to. */
export type CheckedTarget = { url: URL; address: string; family: 4 | 6 };

const MAX_URL_LENGTH = 2048;

/**
 * Checks a webhook URL's shape: absolute http(s), no credentials, https unless the host is one of
 * `allowHttpHosts`. Throws a TargetRefusedError saying why; resolution is `resolveTarget`'s job.
 *
 * @example
 * checkWebhookUrl("https://hooks.example.com/pictor", DEFAULT_WEBHOOK_POLICY); // URL
 * checkWebhookUrl("http://hooks.example.com/", DEFAULT_WEBHOOK_POLICY);        // throws: https only
 */
export function checkWebhookUrl(raw: string | URL, policy: WebhookPolicy): URL {
  const text = String(raw);
  if (text.length > MAX_URL_LENGTH)
    throw new TargetRefusedError(`Expected a URL of at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetRefusedError(`Expected an absolute https URL but received ${text}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new TargetRefusedError(`Expected an https URL but received ${url.protocol} in ${text}`);
  if (url.username || url.password)
    throw new TargetRefusedError("Expected a URL without credentials: use the signing secret");
  const host = normaliseHost(url.hostname);
  if (host === "") throw new TargetRefusedError(`Expected a host in ${text}`);
  if (url.protocol === "http:" && !policy.allowHttpHosts.has(host))
    throw new TargetRefusedError(
      `Expected an https URL: http is allowed only to hosts listed in WEBHOOK_ALLOW_HTTP_HOSTS, and ${host} is not`,
    );
  return url;
}

function refusal(address: string, host: string): TargetRefusedError {
  const kind = classifyAddress(address);
  const through = host === address ? "" : ` (${host} resolves to it)`;
  return new TargetRefusedError(
    `Refused to connect to ${address}${through}: a ${kind} address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it`,
  );
}

/**
 * Checks a URL, resolves its host and checks EVERY address it resolves to (an attacker's DNS may
 * answer one public and one internal address and let the client pick). Returns the address to
 * connect to: the caller connects there and nowhere else, so a second lookup with another answer
 * (DNS rebinding) cannot redirect the request.
 *
 * @example
 * const target = await resolveTarget(new URL("https://hooks.example.com/x"), policy, resolve);
 * // { url, address: "93.184.215.14", family: 4 }
 */
export async function resolveTarget(
  raw: string | URL,
  policy: WebhookPolicy,
  resolve: ResolveHost,
): Promise<CheckedTarget> {
  const url = checkWebhookUrl(raw, policy);
  const host = normaliseHost(url.hostname);
  const trustedHost = policy.allowPrivate.hosts.has(host);
  let addresses: string[];
  const literal = parseIp(host);
  if (literal) addresses = [formatIp(literal)];
  else if (isLocalhostName(host)) addresses = ["127.0.0.1", "::1"];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new TargetRefusedError(
        `Cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (addresses.length === 0) throw new TargetRefusedError(`Cannot resolve ${host}: no address`);
  const canonical: string[] = [];
  for (const a of addresses) {
    const bytes = parseIp(a);
    if (!bytes) throw new TargetRefusedError(`Cannot resolve ${host}: bad address ${a}`);
    const text = formatIp(bytes);
    if (isForbiddenAddress(text, policy.allowPrivate, trustedHost)) throw refusal(text, host);
    canonical.push(text);
  }
  const address = canonical[0] as string;
  return { url, address, family: address.includes(":") ? 6 : 4 };
}
