import { describe, expect, test } from "bun:test";
import {
  type AddressClass,
  classifyAddress,
  formatIp,
  isForbiddenAddress,
  parseAllowList,
  parseIp,
} from "../../src/core/lib/ip-addresses.ts";
import {
  checkWebhookUrl,
  DEFAULT_WEBHOOK_POLICY,
  resolveTarget,
  webhookPolicy,
} from "../../src/features/notifications/webhooks/webhook-target.ts";

// Literals only: nothing here resolves a name or opens a connection.
const TABLE: [string, AddressClass][] = [
  // RFC 1918 private, edges included
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.15.255.255", "public"],
  ["172.32.0.1", "public"],
  ["192.168.1.1", "private"],
  // loopback
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  // link-local (cloud metadata lives here)
  ["169.254.169.254", "link-local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["febf:ffff::1", "link-local"],
  // CGNAT 100.64/10
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["100.63.255.255", "public"],
  ["100.128.0.0", "public"],
  // IPv4 inside IPv6: mapped, NAT64, 6to4
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["0:0:0:0:0:ffff:7f00:0001", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:a9fe:a9fe", "link-local"],
  ["::ffff:100.64.0.1", "cgnat"],
  ["::ffff:1.1.1.1", "public"],
  ["64:ff9b::7f00:1", "loopback"],
  ["64:ff9b::a00:1", "private"],
  ["64:ff9b::101:101", "public"],
  ["64:ff9b:1::1", "private"],
  ["2002:7f00:1::1", "loopback"],
  ["2002:c0a8:101::1", "private"],
  // unspecified, "this network", reserved, broadcast
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "reserved"],
  ["::", "unspecified"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["192.0.0.8", "reserved"],
  ["::127.0.0.1", "reserved"],
  ["100::1", "reserved"],
  ["2001::1", "reserved"],
  ["4000::1", "reserved"],
  // multicast
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["::ffff:224.0.0.251", "multicast"],
  // documentation and benchmarking
  ["192.0.2.1", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.255", "benchmarking"],
  // unique local (fc00::/7) and deprecated site-local
  ["fc00::1", "unique-local"],
  ["fd12:3456:789a::1", "unique-local"],
  ["fd00:ec2::254", "unique-local"],
  ["fec0::1", "private"],
  // public
  ["1.1.1.1", "public"],
  ["8.8.8.8", "public"],
  ["2606:4700::1111", "public"],
  ["2606:4700:4700::1111", "public"],
  ["2001:4860:4860::8888", "public"],
];

describe("classifyAddress", () => {
  test.each(TABLE)("%s is %s", (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  test.each(["localhost", "1.2.3", "01.2.3.4", "256.1.1.1", "1::2::3", "gggg::1", "", "1.2.3.4.5"])(
    "%p is not an address",
    (text) => {
      expect(parseIp(text)).toBeNull();
      expect(() => classifyAddress(text)).toThrow("Expected an IP address");
    },
  );

  test("formats addresses canonically (RFC 5952)", () => {
    const canonical = (t: string) => formatIp(parseIp(t) as Uint8Array);
    expect(canonical("0:0:0:0:0:0:0:1")).toBe("::1");
    expect(canonical("2001:0db8:0000:0000:0001:0000:0000:0001")).toBe("2001:db8::1:0:0:1");
    expect(canonical("::ffff:127.0.0.1")).toBe("::ffff:7f00:1");
    expect(canonical("10.0.0.1")).toBe("10.0.0.1");
  });
});

describe("isForbiddenAddress", () => {
  test("by default only public addresses pass", () => {
    const verdicts = TABLE.map(([ip, kind]) => [ip, isForbiddenAddress(ip), kind !== "public"]);
    for (const [ip, forbidden, expected] of verdicts)
      expect([ip, forbidden]).toEqual([ip, expected]);
  });

  test("an IPv4 CIDR also admits its IPv4-mapped spellings, and nothing else", () => {
    const allow = parseAllowList(["127.0.0.0/8"]);
    expect(isForbiddenAddress("127.0.0.1", allow)).toBe(false);
    expect(isForbiddenAddress("127.9.9.9", allow)).toBe(false);
    expect(isForbiddenAddress("::ffff:7f00:1", allow)).toBe(false);
    expect(isForbiddenAddress("::1", allow)).toBe(true);
    expect(isForbiddenAddress("10.0.0.1", allow)).toBe(true);
    expect(isForbiddenAddress("169.254.169.254", allow)).toBe(true);
  });

  test("* admits internal addresses but never unspecified, multicast or broadcast", () => {
    const allow = parseAllowList(["*"]);
    for (const ip of ["10.0.0.1", "::1", "fd00::1", "100.64.0.1", "169.254.1.1"])
      expect(isForbiddenAddress(ip, allow)).toBe(false);
    for (const ip of ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"])
      expect(isForbiddenAddress(ip, allow)).toBe(true);
  });

  test("allow lists parse CIDRs, addresses, host names and *, and name a bad entry", () => {
    const allow = parseAllowList([" 10.0.0.0/8", "::1", "Hooks.Internal.", "*"]);
    expect(allow.any).toBe(true);
    expect(allow.cidrs.map((c) => c.text)).toEqual(["10.0.0.0/8", "::1/128"]);
    expect([...allow.hosts]).toEqual(["hooks.internal"]);
    expect(() => parseAllowList(["10.0.0.0/33"])).toThrow('received "10.0.0.0/33"');
    expect(() => parseAllowList(["not a host"])).toThrow('received "not a host"');
  });
});

describe("webhook URLs", () => {
  const noDns = async (host: string): Promise<string[]> => {
    throw new Error(`no DNS in this test (asked for ${host})`);
  };
  const refused = async (url: string, policy = DEFAULT_WEBHOOK_POLICY, resolve = noDns) => {
    try {
      await resolveTarget(url, policy, resolve);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${url} was accepted`);
  };

  test("the default policy refuses loopback in every spelling", async () => {
    expect(await refused("http://127.0.0.1:8080/hook")).toContain("Expected an https URL");
    expect(await refused("http://[::1]/hook")).toContain("Expected an https URL");
    expect(await refused("http://localhost/hook")).toContain("Expected an https URL");
    expect(await refused("https://127.0.0.1/hook")).toBe(
      "Refused to connect to 127.0.0.1: a loopback address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
    );
    expect(await refused("https://[::1]/")).toContain("Refused to connect to ::1: a loopback");
    expect(await refused("https://localhost/")).toContain(
      "Refused to connect to 127.0.0.1 (localhost resolves to it): a loopback",
    );
    expect(await refused("https://api.localhost./")).toContain("a loopback address");
    // The URL parser turns these into 127.0.0.1 before anyone looks at them.
    expect(await refused("https://0x7f.1/")).toContain("to 127.0.0.1: a loopback");
    expect(await refused("https://2130706433/")).toContain("to 127.0.0.1: a loopback");
    expect(await refused("https://[::ffff:127.0.0.1]/")).toContain("::ffff:7f00:1: a loopback");
    expect(await refused("https://169.254.169.254/latest/meta-data/")).toContain("a link-local");
    expect(await refused("https://[fd00:ec2::254]/")).toContain("a unique-local");
  });

  test("shape: scheme, credentials, http hosts", async () => {
    expect(await refused("ftp://example.com/")).toContain(
      "Expected an https URL but received ftp:",
    );
    expect(await refused("not a url")).toContain("Expected an absolute https URL");
    expect(await refused("https://user:pw@example.com/")).toContain("without credentials");
    const policy = webhookPolicy({ allowHttpHosts: ["Hooks.Test"], allowPrivate: [] });
    expect(checkWebhookUrl("http://hooks.test:8080/x", policy).href).toBe(
      "http://hooks.test:8080/x",
    );
    expect(await refused("http://other.test/", policy)).toContain("other.test is not");
  });

  test("every resolved address is checked and the first is pinned", async () => {
    const answers: Record<string, string[]> = {
      "public.test": ["2606:4700::1111", "1.1.1.1"],
      "mixed.test": ["1.1.1.1", "10.0.0.7"],
      "mapped.test": ["1.1.1.1", "::ffff:169.254.169.254"],
      "empty.test": [],
    };
    const resolve = async (host: string) => answers[host] ?? [];
    const target = await resolveTarget("https://public.test/x", DEFAULT_WEBHOOK_POLICY, resolve);
    expect([target.address, target.family]).toEqual(["2606:4700::1111", 6]);
    expect(await refused("https://mixed.test/", DEFAULT_WEBHOOK_POLICY, resolve)).toBe(
      "Refused to connect to 10.0.0.7 (mixed.test resolves to it): a private address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
    );
    expect(await refused("https://mapped.test/", DEFAULT_WEBHOOK_POLICY, resolve)).toContain(
      "::ffff:a9fe:a9fe (mapped.test resolves to it): a link-local",
    );
    expect(await refused("https://empty.test/", DEFAULT_WEBHOOK_POLICY, resolve)).toBe(
      "Cannot resolve empty.test: no address",
    );
    expect(await refused("https://nx.test/")).toBe(
      "Cannot resolve nx.test: no DNS in this test (asked for nx.test)",
    );
  });

  test("a trusted host name may resolve to internal addresses", async () => {
    const policy = webhookPolicy({ allowHttpHosts: [], allowPrivate: ["hooks.internal"] });
    const resolve = async () => ["10.1.2.3"];
    const target = await resolveTarget("https://hooks.internal/x", policy, resolve);
    expect(target.address).toBe("10.1.2.3");
    expect(await refused("https://other.internal/", policy, resolve)).toContain("a private");
  });
});
