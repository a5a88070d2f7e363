// "Same site": whether two hosts share a registrable domain, so a registry's credential may go to its token realm
// (registry-1.docker.io → auth.docker.io). Registrable domains come from the Public Suffix List (tldts, private
// section included, so tenants of github.io or s3.amazonaws.com are separate sites). An IP address is its own site.

import { getDomain } from "tldts";
import { parseNumericHost } from "./address.js";

/**
 * Registry hostings the Public Suffix List does not list, where every customer gets its own subdomain: each
 * `<name>.azurecr.io` and `<account>.dkr.ecr.<region>.amazonaws.com[.cn]` is a separate site.
 */
const REGISTRY_TENANTS: ReadonlyArray<RegExp> = [
  /(?:^|\.)([^.]+\.azurecr\.io)$/,
  /(?:^|\.)([^.]+\.dkr\.ecr\.[^.]+\.amazonaws\.com(?:\.cn)?)$/,
];

/**
 * The registrable domain of a host, port ignored: `auth.docker.io` → `docker.io`, `a.b.example.co.uk` →
 * `example.co.uk`, `foo.github.io` → `foo.github.io`; an IP address (any spelling) is its own site, and a name with
 * no registrable domain (`localhost`) is its own too.
 *
 * @example registrableDomain("registry-1.docker.io:443") // "docker.io"
 */
export function registrableDomain(hostWithOptionalPort: string): string {
  let host = stripPort(hostWithOptionalPort).toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (parseNumericHost(host) !== undefined) return host;
  for (const tenant of REGISTRY_TENANTS) {
    const m = tenant.exec(host);
    if (m?.[1]) return m[1];
  }
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/**
 * Whether two hosts share a registrable domain. Ports are ignored, as browsers do for sites: a token server on
 * another port of a registry's address is on the registry's site.
 *
 * @example sameSite("registry-1.docker.io", "auth.docker.io") // true
 */
export function sameSite(a: string, b: string): boolean {
  return registrableDomain(a) === registrableDomain(b);
}

/** `host:port` → `host`, keeping IPv6 brackets. */
export function stripPort(hostPort: string): string {
  if (hostPort.startsWith("[")) {
    const end = hostPort.indexOf("]");
    return end === -1 ? hostPort : hostPort.slice(0, end + 1);
  }
  const colon = hostPort.lastIndexOf(":");
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}
