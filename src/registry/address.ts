// IP address spellings and classification: which addresses count as public.
// Repository content chooses the hosts we contact, so every numeric spelling a resolver or URL parser would accept
// must be recognised (inet_aton/WHATWG forms like `127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`) and every
// non-public range refused, including IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4).

/** Why an address is not public, or null when it is. */
export type AddressClass =
  | "unspecified"
  | "loopback"
  | "private"
  | "shared address space (CGNAT)"
  | "link-local"
  | "unique-local"
  | "site-local"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "benchmarking"
  | "reserved";

export type NumericHost =
  | { kind: "ipv4"; value: number; text: string }
  | { kind: "ipv6"; bytes: Uint8Array; text: string }
  | { kind: "invalid"; reason: string };

const HEX_PART = /^0[xX][0-9a-fA-F]*$/;
const OCTAL_PART = /^0[0-7]+$/;
const DECIMAL_PART = /^[0-9]+$/;

function parseIPv4Part(part: string): number | null {
  if (HEX_PART.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (OCTAL_PART.test(part)) return parseInt(part.slice(1), 8);
  if (DECIMAL_PART.test(part)) {
    // A leading zero followed by 8 or 9 is neither octal nor decimal: inet_aton and WHATWG both reject it.
    if (part.length > 1 && part.startsWith("0")) return null;
    return parseInt(part, 10);
  }
  return null;
}

/**
 * Parse a host the way WHATWG URL's IPv4 parser (and inet_aton) do: 1 to 4 parts, each decimal, octal (leading 0) or
 * hex (0x), the last part filling the remaining bytes. Returns undefined when the host does not end in a number (so it
 * is a domain name), and `invalid` when it does but is not a valid address (a URL parser rejects such hosts).
 */
export function parseIPv4Loose(host: string): NumericHost | undefined {
  const parts = host.split(".");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop(); // one trailing dot is allowed
  const last = parts[parts.length - 1] ?? "";
  const endsInNumber = DECIMAL_PART.test(last) || HEX_PART.test(last);
  if (!endsInNumber) return undefined;
  if (parts.length > 4) return { kind: "invalid", reason: "more than four numeric parts" };
  const numbers: number[] = [];
  for (const part of parts) {
    const n = part === "" ? null : parseIPv4Part(part);
    if (n === null || !Number.isFinite(n)) return { kind: "invalid", reason: `"${part}" is not a number` };
    numbers.push(n);
  }
  const lastNumber = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255)) return { kind: "invalid", reason: "a part is over 255" };
  if (lastNumber >= 256 ** (4 - numbers.length)) return { kind: "invalid", reason: "the address is out of range" };
  let value = lastNumber;
  numbers.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  return { kind: "ipv4", value, text: formatIPv4(value) };
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parse an IPv6 address (no brackets, no zone). Returns null when the text is not one. */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.includes("%")) return null; // zone ids select an interface: never a public registry
  let hex = text;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (lastColon !== -1 && tail.includes(".")) {
    // An embedded dotted IPv4 tail (::ffff:127.0.0.1) becomes two hex groups.
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(tail)) return null;
    const octets = tail.split(".").map(Number);
    if (octets.some((o) => o > 255)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = hex.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 1) {
    const parsed = parseGroups(hex);
    if (!parsed || parsed.length !== 8) return null;
    groups = parsed;
  } else {
    const left = parseGroups(halves[0] ?? "");
    const right = parseGroups(halves[1] ?? "");
    if (!left || !right || left.length + right.length > 7) return null;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

// Special-purpose IPv4 ranges (IANA registry) that are not globally reachable, as [base, prefix length, class].
const IPV4_RANGES: ReadonlyArray<[string, number, AddressClass]> = [
  ["255.255.255.255", 32, "broadcast"],
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared address space (CGNAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "reserved"], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

/** The ranges as [first block number, block size, class], computed once. */
const IPV4_BLOCKS: ReadonlyArray<[number, number, AddressClass]> = IPV4_RANGES.map(([base, prefix, label]) => {
  const size = 2 ** (32 - prefix);
  const octets = base.split(".").map(Number);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  return [Math.floor(value / size), size, label];
});

export function classifyIPv4(value: number): AddressClass | null {
  for (const [block, size, label] of IPV4_BLOCKS) if (Math.floor(value / size) === block) return label;
  return null;
}

function v4At(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) * 256 + (bytes[offset + 1] ?? 0)) * 256 + (bytes[offset + 2] ?? 0)) * 256 + (bytes[offset + 3] ?? 0);
}

function prefixEquals(bytes: Uint8Array, prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const i = bit / 8;
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function classifyIPv6(bytes: Uint8Array): AddressClass | null {
  const allZeroUpTo = (n: number) => bytes.subarray(0, n).every((b) => b === 0);
  if (allZeroUpTo(16)) return "unspecified";
  if (allZeroUpTo(15) && bytes[15] === 1) return "loopback";
  // IPv4-mapped ::ffff:0:0/96 and the IPv4-translated ::ffff:0:0:0/96: the embedded address decides.
  if (allZeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return classifyIPv4(v4At(bytes, 12));
  if (allZeroUpTo(8) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) {
    return classifyIPv4(v4At(bytes, 12));
  }
  if (allZeroUpTo(12)) return "reserved"; // deprecated IPv4-compatible ::a.b.c.d
  // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
  if (prefixEquals(bytes, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) return classifyIPv4(v4At(bytes, 12));
  if (prefixEquals(bytes, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return "private"; // local-use NAT64
  // 6to4 2002::/16 embeds an IPv4 address in bits 16–48.
  if (prefixEquals(bytes, [0x20, 0x02], 16)) return classifyIPv4(v4At(bytes, 2));
  if (prefixEquals(bytes, [0x20, 0x01, 0x0d, 0xb8], 32)) return "documentation";
  if (prefixEquals(bytes, [0x3f, 0xff], 20)) return "documentation";
  if (prefixEquals(bytes, [0x20, 0x01, 0x00], 23)) return "reserved"; // IETF protocol assignments, Teredo, ORCHID
  if (prefixEquals(bytes, [0xfc], 7)) return "unique-local";
  if (prefixEquals(bytes, [0xfe, 0x80], 10)) return "link-local";
  if (prefixEquals(bytes, [0xfe, 0xc0], 10)) return "site-local";
  if (prefixEquals(bytes, [0xff], 8)) return "multicast";
  // Only 2000::/3 is global unicast; everything else (discard-only 100::/64 included) is reserved.
  if (!prefixEquals(bytes, [0x20], 3)) return "reserved";
  return null;
}

/**
 * Recognise a numeric host as written in a URL or returned by DNS: an IPv4 address in any inet_aton spelling, or an
 * IPv6 address with or without brackets. Returns undefined for domain names.
 */
export function parseNumericHost(host: string): NumericHost | undefined {
  let text = host;
  if (text.startsWith("[") && text.endsWith("]")) {
    text = text.slice(1, -1);
    const bytes = parseIPv6(text);
    return bytes ? { kind: "ipv6", bytes, text } : { kind: "invalid", reason: "not an IPv6 address" };
  }
  if (text.includes(":")) {
    const bytes = parseIPv6(text);
    return bytes ? { kind: "ipv6", bytes, text } : { kind: "invalid", reason: "not an IPv6 address" };
  }
  return parseIPv4Loose(text);
}

/** Why an address (IPv4 or IPv6, any accepted spelling) is not public; null when it is public. */
export function classifyAddress(address: string): AddressClass | "invalid" | null {
  const parsed = parseNumericHost(address);
  if (!parsed || parsed.kind === "invalid") return "invalid";
  return parsed.kind === "ipv4" ? classifyIPv4(parsed.value) : classifyIPv6(parsed.bytes);
}
