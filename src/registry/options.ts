// The registry client's options, and the part of them an operator sets through the environment.

import type { Dispatcher } from "undici";
import type { CredentialHelperOptions } from "./credential-helper.js";
import type { CredentialStore } from "./credentials.js";
import { defaultAuthFile } from "./credentials.js";
import { parseInsecureRegistry, splitHostPort } from "./policy.js";
import { DOCKER_HUB } from "../reference.js";

export interface RegistryClientOptions {
  /**
   * Registries (`host[:port]`, optionally `https://host[:port]`) that may use plain HTTP (https with the `https://`
   * prefix) and any address, loopback and private included. Everything else: https to public addresses only.
   */
  insecureRegistries?: readonly string[];
  /** Registry → mirror `host[:port]` to resolve its references through (`docker.io` → `mirror.example.com`). */
  mirrors?: ReadonlyMap<string, string>;
  /** A Docker/Podman config.json to read credentials from (a missing file means none). */
  authFile?: string;
  /** Credentials already loaded; used instead of `authFile`. */
  credentials?: CredentialStore;
  /**
   * How the credential helpers the file names (`credHelpers`, `credsStore`) are run: their environment (PATH, where
   * they are looked for, included; default process.env), time-out (10 s), output limit (64 KiB) and how long an
   * answer is reused (5 minutes; the CLI keeps it for its whole run).
   */
  credentialHelpers?: CredentialHelperOptions;
  /**
   * An undici dispatcher to send requests through (a MockAgent in tests). The client then checks host names and
   * spellings only: connect-time address checks need the client's own Agent.
   */
  dispatcher?: Dispatcher;
  /** Extra trusted CA certificates (PEM) for the client's own Agent, e.g. a private registry's self-signed one. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  timeouts?: {
    /** TCP + TLS connection; default 10 s. */
    connectMs?: number;
    /** One HTTP exchange, from sending to the end of the body; default 30 s. */
    totalMs?: number;
    /**
     * One reference, all its requests together (HEAD, GET, token, retries and their waits, redirects, platform
     * follow-ups); past it the resolution fails with TIMEOUT. Default 60 s.
     */
    referenceMs?: number;
  };
  /** Retries of 429, 5xx and transient network failures; default 3. */
  maxRetries?: number;
  /** First backoff step; default 500 ms (doubling, with jitter). */
  retryBaseMs?: number;
  /** Longest wait between retries; a Retry-After longer than this fails at once. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Requests in flight per registry host; default 8. */
  perHostConcurrency?: number;
  /**
   * Requests in flight over all registries together; default 32. The app and the CLI make one client for the whole
   * process, so this is the process's limit, shared by every scan.
   */
  maxConcurrency?: number;
  /** Largest manifest (and image config) body read; default 4 MiB. */
  maxManifestBytes?: number;
  userAgent?: string;
  /**
   * Told about every HTTP attempt (each retry and each redirect hop separately, and a hop the host policy refuses
   * before sending), for metrics. `outcome` is the status class (`2xx`…`5xx`) or the lower-cased RegistryError code of
   * a failure (`network`, `timeout`, `refused_host`…). Never given URLs, headers or credentials; an observer that
   * throws is ignored.
   */
  onRequest?: (info: RegistryRequestInfo) => void;
}

export interface RegistryRequestInfo {
  host: string;
  kind: "head" | "get" | "token";
  outcome: string;
  /** The HTTP status, when an answer arrived. */
  status?: number;
  durationMs: number;
}

/** A malformed setting; the message names the setting and the bad value. */
export class RegistryConfigError extends Error {
  override readonly name = "RegistryConfigError";
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** `host[:port]` or `http(s)://host[:port]` → `host[:port]` (normalized), or null. */
function mirrorHost(text: string): string | null {
  const stripped = text.replace(/^https?:\/\//i, "").replace(/\/$/, "");
  const hp = splitHostPort(stripped);
  return hp ? `${hp.host}${hp.port === null ? "" : `:${hp.port}`}` : null;
}

function normalizeRegistryName(text: string): string {
  const lower = text.toLowerCase();
  return lower === "index.docker.io" || lower === "registry-1.docker.io" ? DOCKER_HUB : lower;
}

/** Parse `DIGEST_PIN_REGISTRY_MIRRORS`: `registry=mirror[,registry=mirror…]`. */
export function parseMirrors(value: string | undefined, setting = "DIGEST_PIN_REGISTRY_MIRRORS"): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list(value)) {
    const eq = item.indexOf("=");
    const registry = eq === -1 ? "" : item.slice(0, eq).trim();
    const mirror = eq === -1 ? null : mirrorHost(item.slice(eq + 1).trim());
    if (registry === "" || mirror === null || splitHostPort(registry) === null) {
      throw new RegistryConfigError(`${setting}: "${item}" is not registry=mirror-host[:port]`);
    }
    out.set(normalizeRegistryName(registry), mirror);
  }
  return out;
}

/** Parse `DIGEST_PIN_INSECURE_REGISTRIES`: comma-separated `host[:port]` (optionally `http://` or `https://`). */
export function parseInsecureRegistries(
  value: string | undefined,
  setting = "DIGEST_PIN_INSECURE_REGISTRIES",
): string[] {
  const out: string[] = [];
  for (const item of list(value)) {
    if (!parseInsecureRegistry(item)) throw new RegistryConfigError(`${setting}: "${item}" is not host[:port]`);
    out.push(item);
  }
  return out;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a duration: plain seconds (`300`) or with a unit (`500ms`, `30s`, `5m`, `1h`). */
export function parseDuration(value: string, setting: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(value.trim());
  if (!m) {
    throw new RegistryConfigError(`${setting}: "${value}" is not a duration (seconds, or a number with ms, s, m or h)`);
  }
  return Math.round(Number(m[1]) * (DURATION_UNITS[(m[2] ?? "s").toLowerCase()] ?? 1000));
}

/** Parse a positive whole number (a concurrency limit). */
export function parsePositiveInteger(value: string, setting: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new RegistryConfigError(`${setting}: "${value}" is not a positive whole number`);
  }
  return Number(text);
}

/** A setting's value, or undefined when it is unset or blank. */
export function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** A duration setting that must be more than zero (a time-out). */
export function parseTimeout(value: string, name: string): number {
  const ms = parseDuration(value, name);
  if (ms <= 0) throw new RegistryConfigError(`${name}: "${value}" must be longer than 0`);
  return ms;
}

/**
 * The registry options an operator sets in the environment: DIGEST_PIN_INSECURE_REGISTRIES,
 * DIGEST_PIN_REGISTRY_MIRRORS, DIGEST_PIN_REFERENCE_TIMEOUT (one reference's budget),
 * DIGEST_PIN_REGISTRY_CONCURRENCY (requests in flight over all registries), and the credentials file
 * (REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json). Throws RegistryConfigError on
 * malformed values.
 */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv): RegistryClientOptions {
  const options: RegistryClientOptions = {
    insecureRegistries: parseInsecureRegistries(env.DIGEST_PIN_INSECURE_REGISTRIES),
    mirrors: parseMirrors(env.DIGEST_PIN_REGISTRY_MIRRORS),
    authFile: defaultAuthFile(env),
    credentialHelpers: { env },
  };
  const referenceTimeout = setting(env, "DIGEST_PIN_REFERENCE_TIMEOUT");
  if (referenceTimeout !== undefined) {
    options.timeouts = { referenceMs: parseTimeout(referenceTimeout, "DIGEST_PIN_REFERENCE_TIMEOUT") };
  }
  const concurrency = setting(env, "DIGEST_PIN_REGISTRY_CONCURRENCY");
  if (concurrency !== undefined) {
    options.maxConcurrency = parsePositiveInteger(concurrency, "DIGEST_PIN_REGISTRY_CONCURRENCY");
  }
  return options;
}

/**
 * Settings that are still set but no longer do anything, each with what to tell the operator.
 *
 * @example retiredSettings({ DIGEST_PIN_CACHE_TTL: "300" }) // → ["DIGEST_PIN_CACHE_TTL is no longer read: …"]
 */
export function retiredSettings(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (env.DIGEST_PIN_CACHE_TTL?.trim()) {
    out.push(
      "DIGEST_PIN_CACHE_TTL is no longer read: every scan, command and drift check reads each tag from its registry " +
        "(once per run); only manifests by digest, which never change, are cached. Remove the setting.",
    );
  }
  return out;
}
