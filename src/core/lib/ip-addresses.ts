/**
 * Which network addresses a webhook may reach. Pure: parses and classifies IP literals, never
 * resolves or connects. The runtime resolves a name, hands every address it got to
 * `checkAddresses`, and connects to the address that passed (pinning it, so a second DNS answer
 * cannot swap in an internal address between the check and the connection).
 *
 * Classes follow the IANA special-purpose registries (RFC 6890 and its updates).
 */

export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "cgnat"
  | "unique-local"
  | "multicast"
  | "broadcast"
  | "unspecified"
  | "documentation"
  | "benchmarking"
  | "reserved";

/** An IP address as network-order bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/** A CIDR block, e.g. 10.0.0.0/8 or fc00::/7. */
export type Cidr = { bytes: IpBytes; prefix: number; text: string };

/**
 * Addresses that may be reached although they are not public. `any` (the `*` entry) allows every
 * class except those no TCP connection can sensibly target (unspecified, multicast, broadcast),
 * and `hosts` are names trusted to resolve to internal addresses.
 */
export type AddressAllowList = { any: boolean; cidrs: Cidr[]; hosts: ReadonlySet<string> };

export const NO_PRIVATE_ADDRESSES: AddressAllowList = { any: false, cidrs: [], hosts: new Set() };

const DECIMAL_OCTET = /^(0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): IpBytes | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    // Leading zeros are refused: "010" is 8 to inet_aton and 10 to most readers.
    if (!DECIMAL_OCTET.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

function parseIpv6(text: string): IpBytes | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (piece.includes(".")) {
        // An embedded dotted quad may only end the address.
        if (i !== pieces.length - 1) return null;
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        out.push(((v4[0] as number) << 8) | (v4[1] as number));
        out.push(((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 literal (brackets and an IPv6 zone id are accepted and dropped).
 * IPv4 must be a strict dotted quad: the WHATWG URL parser already turned `0x7f.1` or
 * `2130706433` in a URL into `127.0.0.1`, and anything else is a host name, not an address.
 *
 * @example
 * parseIp("::ffff:127.0.0.1"); // Uint8Array(16) [0,…,0,255,255,127,0,0,1]
 * parseIp("example.com");      // null
 */
export function parseIp(text: string): IpBytes | null {
  let t = text.trim();
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  const zone = t.indexOf("%");
  if (zone >= 0) t = t.slice(0, zone);
  return t.includes(":") ? parseIpv6(t) : parseIpv4(t);
}

/** Canonical text of an address: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run ::). */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

function startsWith(bytes: IpBytes, prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const i = bit / 8;
    const width = Math.min(8, bits - bit);
    const mask = (0xff << (8 - width)) & 0xff;
    if (((bytes[i] as number) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one and
 * reach it: IPv4-mapped (::ffff:a.b.c.d), the NAT64 well-known prefix (64:ff9b::/96) and 6to4
 * (2002:aabb:ccdd::/48). An attacker writes 127.0.0.1 as ::ffff:7f00:1 precisely to slip past a
 * check that only knows the IPv4 spelling.
 *
 * @example
 * embeddedIpv4(parseIp("::ffff:7f00:1")!); // Uint8Array(4) [127, 0, 0, 1]
 */
export function embeddedIpv4(bytes: IpBytes): IpBytes | null {
  if (bytes.length !== 16) return null;
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
  const nat64 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
  if (startsWith(bytes, mapped, 96) || startsWith(bytes, nat64, 96)) return bytes.slice(12, 16);
  if (startsWith(bytes, [0x20, 0x02], 16)) return bytes.slice(2, 6);
  return null;
}

type Range = { prefix: number[]; bits: number; class: AddressClass };

// Order matters: the first matching range wins, so narrower ranges come before wider ones.
const IPV4_RANGES: Range[] = [
  { prefix: [0, 0, 0, 0], bits: 32, class: "unspecified" },
  { prefix: [0], bits: 8, class: "reserved" }, // "this network"
  { prefix: [10], bits: 8, class: "private" },
  { prefix: [100, 64], bits: 10, class: "cgnat" },
  { prefix: [127], bits: 8, class: "loopback" },
  { prefix: [169, 254], bits: 16, class: "link-local" },
  { prefix: [172, 16], bits: 12, class: "private" },
  { prefix: [192, 0, 0], bits: 24, class: "reserved" }, // IETF protocol assignments
  { prefix: [192, 0, 2], bits: 24, class: "documentation" },
  { prefix: [192, 88, 99], bits: 24, class: "reserved" }, // 6to4 relay anycast, deprecated
  { prefix: [192, 168], bits: 16, class: "private" },
  { prefix: [198, 18], bits: 15, class: "benchmarking" },
  { prefix: [198, 51, 100], bits: 24, class: "documentation" },
  { prefix: [203, 0, 113], bits: 24, class: "documentation" },
  { prefix: [224], bits: 4, class: "multicast" },
  { prefix: [255, 255, 255, 255], bits: 32, class: "broadcast" },
  { prefix: [240], bits: 4, class: "reserved" },
];

const IPV6_RANGES: Range[] = [
  { prefix: [], bits: 128, class: "unspecified" },
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], bits: 128, class: "loopback" },
  { prefix: [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], bits: 48, class: "private" }, // local NAT64
  { prefix: [0x01, 0x00, 0, 0, 0, 0, 0, 0], bits: 64, class: "reserved" }, // discard-only
  { prefix: [0x20, 0x01, 0x0d, 0xb8], bits: 32, class: "documentation" },
  { prefix: [0x20, 0x01, 0x00], bits: 23, class: "reserved" }, // IETF assignments, Teredo
  { prefix: [0x3f, 0xff, 0x00], bits: 20, class: "documentation" },
  { prefix: [0xfc], bits: 7, class: "unique-local" },
  { prefix: [0xfe, 0x80], bits: 10, class: "link-local" },
  { prefix: [0xfe, 0xc0], bits: 10, class: "private" }, // site-local, deprecated
  { prefix: [0xff], bits: 8, class: "multicast" },
];

function classifyBytes(bytes: IpBytes): AddressClass {
  if (bytes.length === 4) {
    for (const r of IPV4_RANGES) if (startsWith(bytes, r.prefix, r.bits)) return r.class;
    return "public";
  }
  const v4 = embeddedIpv4(bytes);
  if (v4) return classifyBytes(v4);
  for (const r of IPV6_RANGES) if (startsWith(bytes, r.prefix, r.bits)) return r.class;
  // Only 2000::/3 is allocated as global unicast; the rest (incl. deprecated ::a.b.c.d) is not.
  return startsWith(bytes, [0x20], 3) ? "public" : "reserved";
}

/**
 * The class of an IP literal; throws on something that is not one.
 *
 * @example
 * classifyAddress("100.64.0.1");       // "cgnat"
 * classifyAddress("::ffff:127.0.0.1"); // "loopback"
 * classifyAddress("2606:4700::1111");  // "public"
 */
export function classifyAddress(ip: string): AddressClass {
  const bytes = parseIp(ip);
  if (!bytes) throw new TypeError(`Expected an IP address but received ${JSON.stringify(ip)}`);
  return classifyBytes(bytes);
}

/**
 * Parses `10.0.0.0/8`, `fc00::/7`, or a bare address (a /32 or /128).
 *
 * @example
 * parseCidr("127.0.0.0/8"); // { bytes: [127,0,0,0], prefix: 8, text: "127.0.0.0/8" }
 */
export function parseCidr(text: string): Cidr | null {
  const [addr, bits, extra] = text.trim().split("/");
  if (addr === undefined || extra !== undefined) return null;
  const bytes = parseIp(addr);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { bytes, prefix, text: `${formatIp(bytes)}/${prefix}` };
}

/** Whether a block holds an address; IPv4 blocks also hold the IPv4-mapped/NAT64/6to4 forms. */
export function cidrContains(cidr: Cidr, ip: IpBytes): boolean {
  const candidate =
    ip.length === cidr.bytes.length ? ip : ip.length === 16 ? embeddedIpv4(ip) : null;
  if (!candidate || candidate.length !== cidr.bytes.length) return false;
  return startsWith(candidate, [...cidr.bytes], cidr.prefix);
}

const NEVER_REACHABLE: ReadonlySet<AddressClass> = new Set([
  "unspecified",
  "multicast",
  "broadcast",
]);

/**
 * Whether a webhook must not connect to `ip`: anything but a public address, unless the allow
 * list lets it through (`trustedHost`: the URL's host is one of the allow list's host names).
 *
 * @example
 * isForbiddenAddress("10.1.2.3");                                                   // true
 * isForbiddenAddress("127.0.0.1", { any: false, cidrs: [parseCidr("127.0.0.0/8")!], hosts: new Set() }); // false
 */
export function isForbiddenAddress(
  ip: string,
  allow: AddressAllowList = NO_PRIVATE_ADDRESSES,
  trustedHost = false,
): boolean {
  const bytes = parseIp(ip);
  if (!bytes) return true;
  const kind = classifyBytes(bytes);
  if (kind === "public") return false;
  if (allow.cidrs.some((c) => cidrContains(c, bytes))) return false;
  if ((allow.any || trustedHost) && !NEVER_REACHABLE.has(kind)) return false;
  return true;
}

/**
 * Parses an allow list written as comma-separated entries: CIDR blocks or addresses, host names,
 * or `*` for every non-public address. Throws a TypeError naming the first bad entry.
 *
 * @example
 * parseAllowList("127.0.0.0/8, ::1, hooks.internal"); // { any: false, cidrs: [2], hosts: {hooks.internal} }
 */
export function parseAllowList(entries: readonly string[]): AddressAllowList {
  const cidrs: Cidr[] = [];
  const hosts = new Set<string>();
  let any = false;
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") {
      any = true;
      continue;
    }
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else if (isHostName(entry)) hosts.add(normaliseHost(entry));
    else
      throw new TypeError(
        `Expected a CIDR, an IP address, a host name or * but received ${JSON.stringify(raw)}`,
      );
  }
  return { any, cidrs, hosts };
}

/** A DNS name (LDH labels), the form WHATWG URL gives a host after IDNA. */
export function isHostName(text: string): boolean {
  const t = normaliseHost(text);
  return (
    t.length > 0 &&
    t.length <= 253 &&
    t.split(".").every((l) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(l))
  );
}

/** Lowercase, without IPv6 brackets or a trailing root dot: the form hosts are compared in. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** Names that RFC 6761 §6.3 reserves for the loopback interface, whatever DNS says. */
export function isLocalhostName(host: string): boolean {
  const h = normaliseHost(host);
  return h === "localhost" || h.endsWith(".localhost");
}
