import net from "node:net";
import { describe, expect, it } from "vitest";
import { classifyAddress, parseIPv4Loose, parseIPv6 } from "../../src/registry/address.js";
import {
  HostPolicy,
  normalizeHostname,
  parseInsecureRegistry,
  publicOnlyLookup,
  refusedHostReason,
} from "../../src/registry/policy.js";
import { RegistryError } from "../../src/registry/types.js";

describe("address spellings", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0X7F000001", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["017700000001", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["0", "0.0.0.0"],
    ["0x", "0.0.0.0"],
    ["10.0x10.0.1", "10.16.0.1"],
    ["3232235777", "192.168.1.1"],
    ["8.8.8.8", "8.8.8.8"],
  ])("parses %s as %s", (text, expected) => {
    const parsed = parseIPv4Loose(text);
    expect(parsed?.kind).toBe("ipv4");
    expect(parsed?.kind === "ipv4" && parsed.text).toBe(expected);
  });

  it.each(["1.2.3.4.5", "256.1.1.1", "1.2.3.256", "4294967296", "0x100000000", "09.1.1.1", "1..2", "example.0x1"])(
    "%s ends in a number but is no address: invalid",
    (text) => {
      expect(parseIPv4Loose(text)?.kind).toBe("invalid");
    },
  );

  it.each(["example.com", "1.2.3.example", "registry-1.docker.io", "0x7f.example"])("%s is a name", (text) => {
    expect(parseIPv4Loose(text)).toBeUndefined();
  });

  it("parses IPv6 forms, including embedded IPv4 and zero runs", () => {
    expect(Array.from(parseIPv6("::1")!)).toEqual([...new Array(15).fill(0), 1]);
    expect(Array.from(parseIPv6("::ffff:127.0.0.1")!.slice(10))).toEqual([0xff, 0xff, 127, 0, 0, 1]);
    expect(Array.from(parseIPv6("64:ff9b::10.0.0.1")!.slice(12))).toEqual([10, 0, 0, 1]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).not.toBeNull();
    expect(parseIPv6("1::2::3")).toBeNull();
    expect(parseIPv6("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIPv6("fe80::1%eth0")).toBeNull();
    expect(parseIPv6("::ffff:300.0.0.1")).toBeNull();
    expect(parseIPv6("12345::")).toBeNull();
  });
});

describe("address classification", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "shared address space (CGNAT)"],
    ["100.127.255.255", "shared address space (CGNAT)"],
    ["169.254.169.254", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.1", "documentation"],
    ["203.0.113.1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.1.1", "private"],
    ["::ffff:0:169.254.1.1", "link-local"],
    ["::127.0.0.1", "reserved"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b:1::1", "private"],
    ["2002:7f00:1::", "loopback"],
    ["2002:c0a8:101::1", "private"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fec0::1", "site-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
    ["4000::1", "reserved"],
  ])("%s is %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "172.15.255.255",
    "100.128.0.1",
    "100.63.255.255",
    "192.169.0.1",
    "11.0.0.1",
    "198.20.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ])("%s is public", (address) => {
    expect(classifyAddress(address)).toBeNull();
  });
});

describe("host policy", () => {
  const policy = new HostPolicy([]);
  const refused = (host: string) => {
    try {
      policy.registryBaseUrl(host);
    } catch (error) {
      expect(error).toBeInstanceOf(RegistryError);
      return (error as RegistryError).code;
    }
    return "allowed";
  };

  it.each([
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0x7f.1",
    "0177.0.0.1",
    "127.0.0.1.",
    "0.0.0.0",
    "0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::FFFF:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[64:ff9b::10.0.0.1]",
    "[fe80::1]",
    "[fd00::1]",
    "[ff02::1]",
    "localhost",
    "LOCALHOST",
    "localhost:5000",
    "registry.localhost",
    "registry",
    "printer.local",
    "metadata.google.internal",
    "router.home.arpa",
    "１２７.０.０.１",
    "%31%32%37.0.0.1",
    "1.2.3.4.5",
    "256.0.0.1",
  ])("refuses %s before any connection", (host) => {
    expect(refused(host)).toBe("REFUSED_HOST");
  });

  it.each(["registry-1.docker.io", "ghcr.io", "quay.io", "8.8.8.8", "[2606:4700:4700::1111]", "registry.example.com:5000"])(
    "allows %s over https",
    (host) => {
      expect(refused(host)).toBe("allowed");
      expect(policy.registryBaseUrl(host).protocol).toBe("https:");
    },
  );

  it("refuses plain HTTP, URLs with credentials and other schemes", () => {
    expect(() => policy.check(new URL("http://registry.example.com/v2/"))).toThrow(/plain HTTP/);
    expect(() => policy.check(new URL("https://user:pw@registry.example.com/"))).toThrow(/credentials/);
    expect(() => policy.check(new URL("ftp://registry.example.com/"))).toThrow(/only https/);
  });

  it("lets listed registries use plain HTTP and any address, and only them", () => {
    const listed = new HostPolicy(["127.0.0.1:5000", "https://10.0.0.7", "[::1]:5001", "Registry.Internal"]);
    expect(listed.registryBaseUrl("127.0.0.1:5000").href).toBe("http://127.0.0.1:5000/");
    expect(listed.registryBaseUrl("10.0.0.7:8443").href).toBe("https://10.0.0.7:8443/");
    expect(listed.registryBaseUrl("[::1]:5001").href).toBe("http://[::1]:5001/");
    expect(listed.registryBaseUrl("registry.internal").href).toBe("http://registry.internal/");
    // Another port of a host listed with a port is not listed.
    expect(() => listed.registryBaseUrl("127.0.0.1:5001")).toThrow(RegistryError);
    // Spellings normalize to the listed host.
    expect(listed.registryBaseUrl("2130706433:5000").href).toBe("http://127.0.0.1:5000/");
    expect(() => listed.check(new URL("http://127.0.0.1:6000/token"))).toThrow(/plain HTTP/);
    expect(() => listed.check(new URL("http://127.0.0.1:5000/token"))).not.toThrow();
  });

  it("parses insecure-registry entries", () => {
    expect(parseInsecureRegistry("127.0.0.1:5000")).toEqual({ host: "127.0.0.1", port: "5000", scheme: "http" });
    expect(parseInsecureRegistry("https://reg.corp.example/")).toEqual({ host: "reg.corp.example", port: null, scheme: "https" });
    expect(parseInsecureRegistry("[::1]:80")).toEqual({ host: "[::1]", port: "80", scheme: "http" });
    expect(parseInsecureRegistry("reg/path")).toBeNull();
    expect(parseInsecureRegistry("reg:99999")).toBeNull();
    expect(parseInsecureRegistry("")).toBeNull();
  });

  it("normalizes host spellings like WHATWG URL", () => {
    expect(normalizeHostname("0x7f.1")).toBe("127.0.0.1");
    expect(normalizeHostname("[::FFFF:127.0.0.1]")).toBe("[::ffff:7f00:1]");
    expect(normalizeHostname("REGISTRY.Example.COM")).toBe("registry.example.com");
    expect(normalizeHostname("bad host")).toBeNull();
    expect(refusedHostReason("registry.example.com")).toBeNull();
  });
});

describe("connect-time checks", () => {
  it("refuses a DNS answer that points at loopback", async () => {
    const error = await new Promise<Error | null>((resolve) =>
      publicOnlyLookup("localhost", { all: true }, (err) => resolve(err)),
    );
    expect(error?.message).toMatch(/resolves to .* loopback address/);
  });

  it("the connector refuses unlisted loopback and plain HTTP, and connects listed hosts", async () => {
    const plain = net.createServer((s) => s.end());
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const port = String((plain.address() as net.AddressInfo).port);
    const connect = (policy: HostPolicy, hostname: string, protocol: string) =>
      new Promise<Error | null>((resolve) =>
        policy.connector({ timeout: 1000 })({ hostname, protocol, port, host: hostname }, (err, socket) => {
          socket?.destroy();
          resolve(err);
        }),
      );
    try {
      const strict = new HostPolicy([]);
      expect((await connect(strict, "127.0.0.1", "https:"))?.message).toMatch(/loopback/);
      expect((await connect(strict, "::1", "https:"))?.message).toMatch(/loopback/);
      expect((await connect(strict, "localhost", "https:"))?.message).toMatch(/resolves to/);
      expect((await connect(strict, "example.com", "http:"))?.message).toMatch(/plain HTTP/);
      expect(await connect(new HostPolicy([`127.0.0.1:${port}`]), "127.0.0.1", "http:")).toBeNull();
    } finally {
      plain.close();
    }
  });
});
