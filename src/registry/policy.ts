// Which hosts the client may contact. Repository content picks registries, so by default only https to public
// addresses is allowed: checked on the URL before any request (host spellings, plain HTTP) and again on the address
// actually connected to (DNS answers), since a public-looking name can resolve to 127.0.0.1. Registries the operator
// lists as insecure may use plain HTTP and any address.

import dns from "node:dns";
import type { LookupAddress, LookupOptions } from "node:dns";
import { buildConnector } from "undici";
import { classifyAddress, parseNumericHost } from "./address.js";
import { RegistryError } from "./types.js";

export interface InsecureRegistry {
  /** Normalized host name (IPv6 in brackets). */
  host: string;
  /** Port, or null for any port of that host. */
  port: string | null;
  /** `http` unless the entry was written with `https://` (a private registry with a real certificate). */
  scheme: "http" | "https";
}

/** Thrown by the connect-time checks; the transport turns it into RegistryError REFUSED_HOST. */
export class RefusedAddressError extends Error {
  override readonly name = "RefusedAddressError";
  readonly code = "EDIGESTPIN_REFUSED";
}

const HOST_PORT_RE = /^(\[[^\]]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/;

/** The WHATWG URL spelling of a host (`0x7f.1` → `127.0.0.1`, `[::FFFF:127.0.0.1]` → `[::ffff:7f00:1]`), or null. */
export function normalizeHostname(host: string): string | null {
  try {
    const url = new URL(`https://${host}/`);
    return url.port === "" && url.username === "" && url.pathname === "/" ? url.hostname : null;
  } catch {
    return null;
  }
}

/** Parse `host[:port]`, optionally prefixed by `http://` or `https://` (an insecure-registry entry). */
export function parseInsecureRegistry(entry: string): InsecureRegistry | null {
  let text = entry.trim();
  let scheme: "http" | "https" = "http";
  const schemeMatch = /^(https?):\/\//i.exec(text);
  if (schemeMatch) {
    scheme = (schemeMatch[1] ?? "").toLowerCase() === "https" ? "https" : "http";
    text = text.slice(schemeMatch[0].length);
  }
  if (text.endsWith("/")) text = text.slice(0, -1);
  const m = HOST_PORT_RE.exec(text);
  if (!m) return null;
  const host = normalizeHostname(m[1] ?? "");
  const port = m[2] ?? null;
  if (host === null || (port !== null && (Number(port) < 1 || Number(port) > 65535))) return null;
  return { host, port: port === null ? null : String(Number(port)), scheme };
}

/** Split a registry's `host[:port]` into its normalized host and port (null when absent). */
export function splitHostPort(hostPort: string): { host: string; port: string | null } | null {
  const m = HOST_PORT_RE.exec(hostPort);
  if (!m) return null;
  const host = normalizeHostname(m[1] ?? "");
  if (host === null) return null;
  return { host, port: m[2] === undefined ? null : String(Number(m[2])) };
}

// Names that only ever mean something inside a network (RFC 6761/6762/8375, common intranet suffixes).
const INTERNAL_NAME_RE = /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home\.arpa)$/;

/** Why a host name (already normalized) may not be contacted, or null. Numeric hosts are classified by range. */
export function refusedHostReason(hostname: string): string | null {
  const numeric = parseNumericHost(hostname);
  if (numeric !== undefined) {
    if (numeric.kind === "invalid") return `"${hostname}" is not a valid address (${numeric.reason})`;
    const address = numeric.kind === "ipv4" ? numeric.text : hostname;
    const cls = classifyAddress(address);
    return cls === null ? null : `${hostname} is a ${cls} address`;
  }
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (!name.includes(".")) return `"${hostname}" is a single-label (internal) name`;
  if (INTERNAL_NAME_RE.test(name)) return `"${hostname}" is an internal name`;
  return null;
}

/** How a refusal says what allows the host; the CLI says it with its own flag instead. */
export const INSECURE_HINT = "list it in DIGEST_PIN_INSECURE_REGISTRIES to allow it";

export class HostPolicy {
  private readonly insecure: InsecureRegistry[];

  constructor(insecureRegistries: readonly string[] = []) {
    this.insecure = insecureRegistries.map((entry) => {
      const parsed = parseInsecureRegistry(entry);
      if (!parsed) throw new TypeError(`insecure registry "${entry}" is not host[:port]`);
      return parsed;
    });
  }

  /** The insecure-list entry that covers a host and port (port "" or null means the scheme's default). */
  listed(host: string, port: string | null, protocol: "http:" | "https:"): InsecureRegistry | undefined {
    const normalized = normalizeHostname(host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);
    if (normalized === null) return undefined;
    const effectivePort = port || (protocol === "http:" ? "80" : "443");
    return this.insecure.find((e) => e.host === normalized && (e.port === null || e.port === effectivePort));
  }

  /** The base URL of a registry's API: https, or the scheme of its insecure-list entry. */
  registryBaseUrl(registry: string): URL {
    const hp = splitHostPort(registry);
    if (!hp) throw new RegistryError("REFUSED_HOST", `"${registry}" is not a valid registry host`);
    const entry = this.insecure.find(
      (e) => e.host === hp.host && (e.port === null || e.port === (hp.port ?? (e.scheme === "http" ? "80" : "443"))),
    );
    const scheme = entry?.scheme ?? "https";
    const url = new URL(`${scheme}://${hp.host}${hp.port === null ? "" : `:${hp.port}`}/`);
    this.check(url);
    return url;
  }

  /** Refuse a URL (registry, redirect or token realm) the client must not contact. */
  check(url: URL): void {
    const where = url.host;
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new RegistryError("REFUSED_HOST", `refused ${url.protocol} URL for ${where}: only https is allowed`);
    }
    if (url.username !== "" || url.password !== "") {
      throw new RegistryError("REFUSED_HOST", `refused a URL with credentials in it for ${where}`);
    }
    if (this.listed(url.hostname, url.port, url.protocol)) return;
    if (url.protocol === "http:") {
      throw new RegistryError(
        "REFUSED_HOST",
        `refused plain HTTP to ${where}: ${INSECURE_HINT}`,
      );
    }
    const reason = refusedHostReason(url.hostname);
    if (reason !== null) {
      throw new RegistryError(
        "REFUSED_HOST",
        `refused ${where}: ${reason}; ${INSECURE_HINT}`,
      );
    }
  }

  /**
   * An undici connector that re-checks at connect time: listed hosts connect freely; others must be https, and every
   * address DNS returns (or the literal address) must be public.
   */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const strict = buildConnector({ ...options, lookup: publicOnlyLookup } as buildConnector.BuildOptions);
    const open = buildConnector(options);
    return (opts, callback) => {
      const protocol = opts.protocol === "http:" ? "http:" : "https:";
      if (this.listed(opts.hostname, opts.port, protocol)) {
        open(opts, callback);
        return;
      }
      if (opts.protocol !== "https:") {
        callback(new RefusedAddressError(`refused plain HTTP connection to ${opts.hostname}`), null);
        return;
      }
      const numeric = parseNumericHost(opts.hostname);
      if (numeric !== undefined) {
        const cls = numeric.kind === "invalid" ? "invalid" : classifyAddress(opts.hostname);
        if (cls !== null) {
          callback(new RefusedAddressError(`refused connection to ${opts.hostname}: ${cls} address`), null);
          return;
        }
      }
      strict(opts, callback);
    };
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup, refusing the whole answer when any address in it is not public (no partial trust of a mixed answer). */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, "", 0);
      return;
    }
    for (const { address } of addresses) {
      const cls = classifyAddress(address);
      if (cls !== null) {
        callback(new RefusedAddressError(`refused ${hostname}: it resolves to ${address}, a ${cls} address`), "", 0);
        return;
      }
    }
    if (options.all) {
      callback(null, addresses);
      return;
    }
    const first = addresses[0];
    if (!first) {
      callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 0);
      return;
    }
    callback(null, first.address, first.family);
  });
}
