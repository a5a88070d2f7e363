// "Same site": whether two hosts share a registrable domain, so credentials for a registry may go to its token realm
// (registry-1.docker.io → auth.docker.io). A full Public Suffix List is overkill here; a short list of multi-label
// suffixes and shared-hosting domains keeps tenants of one provider from counting as one site.

import { parseNumericHost } from "./address.js";

/** Suffixes under which each label belongs to a different owner (a handful of ccTLD second levels and hostings). */
const MULTI_LABEL_SUFFIXES = new Set([
  // country-code second levels
  "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk",
  "com.au", "net.au", "org.au", "edu.au", "gov.au",
  "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "co.kr", "co.in", "co.za",
  "com.br", "com.cn", "net.cn", "org.cn", "com.tw", "com.mx", "com.sg", "com.hk", "com.tr",
  // shared hosting: every customer gets a subdomain
  "github.io", "githubusercontent.com", "gitlab.io", "herokuapp.com", "appspot.com", "azurewebsites.net",
  "cloudfront.net", "s3.amazonaws.com", "blob.core.windows.net", "pages.dev", "workers.dev", "netlify.app",
  "vercel.app", "web.app", "firebaseapp.com", "fly.dev", "onrender.com", "azurecr.io", "ngrok.io", "ngrok-free.app",
]);

/** Hosts whose every subdomain level below the marked position is a separate tenant (`<account>.dkr.ecr.<region>…`). */
const WILDCARD_SUFFIXES: ReadonlyArray<RegExp> = [/^[^.]+\.dkr\.ecr\.[^.]+\.amazonaws\.com(\.cn)?$/];

function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** The registrable domain of a host (`auth.docker.io` → `docker.io`); an IP address is its own site. */
export function registrableDomain(hostWithOptionalPort: string): string {
  const host = normalizeHost(stripPort(hostWithOptionalPort));
  const numeric = parseNumericHost(host);
  if (numeric !== undefined) return host;
  for (const pattern of WILDCARD_SUFFIXES) {
    const labels = host.split(".");
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join(".");
      if (pattern.test(candidate)) return candidate;
    }
  }
  const labels = host.split(".");
  if (labels.length <= 2) return host;
  for (let i = 1; i < labels.length - 1; i++) {
    const suffix = labels.slice(i).join(".");
    if (MULTI_LABEL_SUFFIXES.has(suffix)) return labels.slice(i - 1).join(".");
  }
  return labels.slice(-2).join(".");
}

/** Whether two hosts (ports ignored, as browsers do for sites) share a registrable domain. */
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
