// What the setup page asks GitHub to register (pure, no I/O): the app manifest built from app.yml and the operator's
// settings, and the GitHub page the form posts it to.
//
// Probot 14's own manifest spreads app.yml over its defaults, so app.yml's placeholder webhook URL and `public` win over
// WEBHOOK_PROXY_URL, and its default webhook URL is the site root rather than the webhook path. Here the webhook URL
// comes, in this order, from WEBHOOK_URL (the operator's public address), WEBHOOK_PROXY_URL (a relay such as smee.io
// that forwards to this process), or the address the operator's browser used to open the setup page.
// https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

import { parse as parseYaml } from "yaml";
import { refusedHostReason, splitHostPort } from "../../registry/policy.js";

export type SetupErrorCode = "INVALID_SETTING" | "INVALID_APP_YML" | "PROBOT_SETUP_MISSING";

export class SetupError extends Error {
  override readonly name = "SetupError";
  constructor(
    readonly code: SetupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Probot's webhook path (`WEBHOOK_PATH` changes it there too). */
export const DEFAULT_WEBHOOK_PATH = "/api/github/webhooks";

export interface SetupSettings {
  /** WEBHOOK_URL: where GitHub should deliver webhooks, as the operator gave it. */
  webhookUrl: string | null;
  /** WEBHOOK_PROXY_URL: a relay Probot subscribes to, which forwards deliveries here. */
  proxyUrl: string | null;
  webhookPath: string;
  /** GH_ORG: register the app on this organization instead of the personal account. */
  org: string | null;
  /** https://github.com, or GHE_PROTOCOL://GHE_HOST. */
  githubUrl: string;
}

// GitHub logins: letters, digits and single inner hyphens, at most 39 characters.
const LOGIN_RE = /^[a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38}$/i;

function absoluteUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new SetupError("INVALID_SETTING", `${name}=${JSON.stringify(value)} is not an absolute URL`, { cause: error });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SetupError("INVALID_SETTING", `${name}=${JSON.stringify(value)} must be an http or https URL`);
  }
  if (url.username || url.password) {
    throw new SetupError("INVALID_SETTING", `${name} must not carry a user name or password`);
  }
  return url.href;
}

/**
 * The setup settings from the environment, checked.
 *
 * @example setupSettings({ GH_ORG: "acme", WEBHOOK_URL: "https://pin.acme.dev/api/github/webhooks" }).org // "acme"
 */
export function setupSettings(env: NodeJS.ProcessEnv): SetupSettings {
  const org = env.GH_ORG?.trim() || null;
  if (org !== null && !LOGIN_RE.test(org)) {
    throw new SetupError("INVALID_SETTING", `GH_ORG=${JSON.stringify(org)} is not a GitHub organization name`);
  }
  const webhookPath = env.WEBHOOK_PATH?.trim() || DEFAULT_WEBHOOK_PATH;
  if (!webhookPath.startsWith("/")) throw new SetupError("INVALID_SETTING", "WEBHOOK_PATH must start with /");
  const gheHost = env.GHE_HOST?.trim();
  const protocol = env.GHE_PROTOCOL?.trim() || "https";
  if (protocol !== "https" && protocol !== "http") throw new SetupError("INVALID_SETTING", "GHE_PROTOCOL must be https or http");
  let githubUrl = "https://github.com";
  if (gheHost) {
    if (!splitHostPort(gheHost)) throw new SetupError("INVALID_SETTING", `GHE_HOST=${JSON.stringify(gheHost)} is not a host[:port]`);
    githubUrl = `${protocol}://${gheHost}`;
  }
  return {
    webhookUrl: env.WEBHOOK_URL?.trim() ? absoluteUrl("WEBHOOK_URL", env.WEBHOOK_URL.trim()) : null,
    proxyUrl: env.WEBHOOK_PROXY_URL?.trim() ? absoluteUrl("WEBHOOK_PROXY_URL", env.WEBHOOK_PROXY_URL.trim()) : null,
    webhookPath,
    org,
    githubUrl,
  };
}

/** The request headers the origin is read from. */
export interface RequestHeaders {
  host?: string | undefined;
  "x-forwarded-host"?: string | string[] | undefined;
  "x-forwarded-proto"?: string | string[] | undefined;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(",")[0]?.trim() || undefined;
}

/**
 * The origin (`scheme://host[:port]`) the operator's browser used to reach this process, or null when the headers do
 * not name a valid host. X-Forwarded-Host and X-Forwarded-Proto (first value) are believed, as Probot does: only the
 * browser that asked sees the page, a browser cannot set them on a cross-site request, and behind a TLS-terminating
 * proxy they are the only way to learn the public address. Whatever they say is checked to be a plain host[:port] and
 * http or https, and everything shown is HTML-escaped.
 *
 * @example requestOrigin({ host: "10.0.0.5:3000", "x-forwarded-host": "pin.acme.dev", "x-forwarded-proto": "https" }, false)
 *   // "https://pin.acme.dev"
 */
export function requestOrigin(headers: RequestHeaders, encrypted: boolean): string | null {
  const forwardedProto = firstValue(headers["x-forwarded-proto"])?.toLowerCase();
  const proto = forwardedProto === "https" || forwardedProto === "http" ? forwardedProto : encrypted ? "https" : "http";
  const host = firstValue(headers["x-forwarded-host"]) ?? headers.host?.trim();
  if (!host || !splitHostPort(host)) return null;
  let url: URL;
  try {
    url = new URL(`${proto}://${host}`);
  } catch {
    return null;
  }
  // A DNS name or an IP address, nothing the URL parser merely tolerates (quotes, say).
  return /^(?:[a-z\d-]+\.)*[a-z\d-]+$|^\[[\da-f:.]+\]$/i.test(url.hostname) ? url.origin : null;
}

export interface WebhookTarget {
  url: string;
  source: "WEBHOOK_URL" | "WEBHOOK_PROXY_URL" | "the address of this page";
  /** Why GitHub.com could not deliver there (a loopback or private host), or null. */
  unreachable: string | null;
}

/**
 * Where GitHub is to deliver webhooks: WEBHOOK_URL, else WEBHOOK_PROXY_URL, else this page's origin and the webhook path.
 *
 * @example webhookTarget(setupSettings({}), "https://pin.acme.dev").url // "https://pin.acme.dev/api/github/webhooks"
 */
export function webhookTarget(settings: SetupSettings, origin: string): WebhookTarget {
  const [url, source]: [string, WebhookTarget["source"]] = settings.webhookUrl
    ? [settings.webhookUrl, "WEBHOOK_URL"]
    : settings.proxyUrl
      ? [settings.proxyUrl, "WEBHOOK_PROXY_URL"]
      : [new URL(settings.webhookPath, origin).href, "the address of this page"];
  const hostname = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const reason = refusedHostReason(hostname);
  // GitHub Enterprise Server may well sit on the same private network; loopback is out of reach for any GitHub.
  const unreachable = reason && (settings.githubUrl === "https://github.com" || /loopback|localhost/.test(reason)) ? reason : null;
  return { url, source, unreachable };
}

/** The parts of app.yml the manifest takes (GitHub's manifest fields; anything else is passed on unchanged). */
export type AppYml = Record<string, unknown>;

/** Parse app.yml: a YAML mapping, or a SetupError saying what is wrong. */
export function parseAppYml(text: string): AppYml {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new SetupError("INVALID_APP_YML", `app.yml is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new SetupError("INVALID_APP_YML", "app.yml must be a mapping of GitHub App manifest fields");
  }
  return value as AppYml;
}

export interface AppManifest extends AppYml {
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  public: boolean;
}

/**
 * The manifest the setup page posts: app.yml, with the webhook URL, the return address and `public` decided here.
 * An app registered on an organization (GH_ORG) stays private to it; one registered on a personal account must be
 * public to be installable on an organization (anyone can then install it, so GH_ORG is the better choice).
 *
 * @example appManifest({ name: "digest-pin" }, settings, "http://localhost:3000").redirect_url
 *   // "http://localhost:3000/probot/setup"
 */
export function appManifest(appYml: AppYml, settings: SetupSettings, origin: string): AppManifest {
  const hook = appYml.hook_attributes && typeof appYml.hook_attributes === "object" ? appYml.hook_attributes : {};
  return {
    ...appYml,
    hook_attributes: { ...hook, url: webhookTarget(settings, origin).url, active: true },
    redirect_url: new URL("/probot/setup", origin).href,
    public: settings.org === null,
  };
}

/**
 * GitHub's page that registers an app from a posted manifest, carrying `state` (GitHub sends it back with the code).
 *
 * @example createAppUrl(setupSettings({ GH_ORG: "acme" }), "s1") // "https://github.com/organizations/acme/settings/apps/new?state=s1"
 */
export function createAppUrl(settings: SetupSettings, state: string): string {
  const owner = settings.org ? `/organizations/${encodeURIComponent(settings.org)}` : "";
  return `${settings.githubUrl}${owner}/settings/apps/new?state=${encodeURIComponent(state)}`;
}

/** Where the operator edits an existing app's settings (its webhook URL, say). */
export function appSettingsUrl(settings: SetupSettings): string {
  const owner = settings.org ? `/organizations/${encodeURIComponent(settings.org)}` : "";
  return `${settings.githubUrl}${owner}/settings/apps`;
}
