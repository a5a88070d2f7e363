// Registry credentials from a Docker (or Podman) `config.json`: `{"auths": {"<key>": {"auth": base64(user:pass)}}}`,
// and the credential helpers it names: `credHelpers` (one registry each) and `credsStore` (every other registry).
// Keys name a registry as `host[:port]`, a URL, or Docker Hub's legacy `https://index.docker.io/v1/`; an auths key may
// carry a repository path (Podman), which then wins over the registry-wide entry for repositories under it.
//
// Which answers a registry follows Docker (cli/config/configfile): credHelpers[registry], else credsStore, else the
// auths entry. A helper, once it applies, is the only answer: an auths entry for the same registry is not consulted
// (credHelpers[registry] = "" opts a registry out of credsStore, back to auths).

import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isHelperName } from "./credential-helper.js";

export interface Credential {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token (Docker's "identity token": `identitytoken` in auths, or a helper's `<token>` username),
   * exchanged at the registry's token realm with `grant_type=refresh_token`. When present it is used instead of the
   * password there.
   */
  identityToken?: string;
}

/** Where a registry's credential comes from. Holds no secret except a file credential itself. */
export type CredentialSource =
  | { kind: "file"; credential: Credential }
  /** Ask `docker-credential-<helper>` for `serverUrl`, the string Docker would send it. */
  | { kind: "helper"; helper: string; serverUrl: string }
  /** Nothing usable; `reason` says why when the file has an entry that cannot be used. */
  | { kind: "none"; reason?: string };

/** A credentials file that exists but cannot be used. The message names the file and entry, never a secret. */
export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
}

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/** Normalize a config key or a registry host to `host[:port][/path]`, lower-case host, Docker Hub as `docker.io`. */
export function credentialKey(key: string): string | null {
  let text = key.trim();
  if (text === "") return null;
  let pathPart = "";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    text = url.host;
    pathPart = url.pathname;
  } else {
    const slash = text.indexOf("/");
    if (slash !== -1) {
      pathPart = text.slice(slash);
      text = text.slice(0, slash);
    }
  }
  let host = text.toLowerCase();
  if (DOCKER_HUB_ALIASES.has(host)) {
    host = "docker.io";
    pathPart = pathPart.replace(/^\/v1\/?$/, ""); // https://index.docker.io/v1/ is the whole of Docker Hub
  }
  // Only a repository path narrows the entry; API paths like /v2/ do not.
  pathPart = pathPart.replace(/^\/v[12]\/?$/, "").replace(/\/+$/, "");
  return host + pathPart;
}

/**
 * What Docker sends a credential helper for a registry host: `https://index.docker.io/v1/` for Docker Hub (any of its
 * names), else `host[:port]` as contacted (lower case).
 *
 * @example helperServerUrl("registry-1.docker.io") // "https://index.docker.io/v1/"
 */
export function helperServerUrl(host: string): string {
  const key = credentialKey(host) ?? host.toLowerCase();
  return key === "docker.io" ? "https://index.docker.io/v1/" : key;
}

function decodeAuth(value: string, where: string): Credential {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value.replace(/\s/g, ""))) {
    throw new CredentialsError(`${where}: "auth" is not base64`);
  }
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new CredentialsError(`${where}: "auth" does not decode to user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One auths entry: a credential, a reason it gives none, or nothing at all (an empty entry a helper left). */
function parseEntry(e: Record<string, unknown>, where: string): Credential | string | undefined {
  for (const field of ["auth", "username", "password", "identitytoken", "registrytoken"]) {
    if (e[field] !== undefined && typeof e[field] !== "string") {
      throw new CredentialsError(`${where}: "${field}" must be a string`);
    }
  }
  const auth = e.auth as string | undefined;
  const username = e.username as string | undefined;
  const password = e.password as string | undefined;
  const identityToken = e.identitytoken as string | undefined;
  let credential: Credential | undefined;
  if (auth !== undefined && auth !== "") credential = decodeAuth(auth, where);
  else if (username && password !== undefined) credential = { username, password };
  if (identityToken) credential = { ...(credential ?? { username: "", password: "" }), identityToken };
  if (credential) return credential;
  // A registry token is a ready-made Bearer token, used by Docker as is; digest-pin asks for its own tokens.
  if (e.registrytoken) return `${where} holds only a "registrytoken", which digest-pin does not use (give "auth" or a credential helper)`;
  return undefined;
}

function helperName(value: unknown, where: string): string {
  if (typeof value !== "string") throw new CredentialsError(`${where} must be a string`);
  if (value !== "" && !isHelperName(value)) {
    throw new CredentialsError(`${where} "${value.slice(0, 100)}" is not a credential helper name`);
  }
  return value;
}

export class CredentialStore {
  private constructor(
    private readonly byKey: ReadonlyMap<string, Credential | string>,
    private readonly credsStore = "",
    private readonly credHelpers: ReadonlyMap<string, string> = new Map(),
  ) {}

  static empty(): CredentialStore {
    return new CredentialStore(new Map());
  }

  /** Credentials given directly, keyed like a config file (`ghcr.io`, `https://index.docker.io/v1/`, `host:5000`). */
  static fromEntries(entries: Record<string, Credential> | Iterable<[string, Credential]>): CredentialStore {
    const map = new Map<string, Credential>();
    const list = Symbol.iterator in entries ? [...(entries as Iterable<[string, Credential]>)] : Object.entries(entries);
    for (const [key, credential] of list) {
      const normalized = credentialKey(key);
      if (normalized === null) throw new CredentialsError(`credentials key "${key}" is not a registry`);
      map.set(normalized, { ...credential });
    }
    return new CredentialStore(map);
  }

  /** Parse the text of a config.json; `source` names it in errors. */
  static parse(text: string, source: string): CredentialStore {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CredentialsError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
    if (!isObject(json)) throw new CredentialsError(`${source} must contain a JSON object`);
    const map = new Map<string, Credential | string>();
    const { auths, credsStore, credHelpers } = json;
    if (auths !== undefined && !isObject(auths)) throw new CredentialsError(`${source}: "auths" must be an object`);
    for (const [key, entry] of Object.entries(auths ?? {})) {
      const where = `${source}: auths["${key}"]`;
      if (!isObject(entry)) throw new CredentialsError(`${where} must be an object`);
      const normalized = credentialKey(key);
      if (normalized === null) throw new CredentialsError(`${where}: the key is not a registry`);
      const parsed = parseEntry(entry, where);
      if (parsed !== undefined) map.set(normalized, parsed);
    }
    const store = credsStore === undefined ? "" : helperName(credsStore, `${source}: "credsStore"`);
    if (credHelpers !== undefined && !isObject(credHelpers)) {
      throw new CredentialsError(`${source}: "credHelpers" must be an object`);
    }
    const helpers = new Map<string, string>();
    for (const [key, value] of Object.entries(credHelpers ?? {})) {
      const where = `${source}: credHelpers["${key}"]`;
      const normalized = credentialKey(key);
      if (normalized === null) throw new CredentialsError(`${where}: the key is not a registry`);
      // Docker matches the registry exactly: a key with a repository path never applies.
      helpers.set(normalized, helperName(value, where));
    }
    return new CredentialStore(map, store, helpers);
  }

  /**
   * Where the credential for a registry host (`docker.io`, `registry-1.docker.io`, `ghcr.io`, `host:5000`) and, when
   * given, a repository comes from: its credHelpers entry, else credsStore, else the most specific `host/path` auths
   * entry covering the repository, else the host's entry. Pure: no helper is run here.
   *
   * @example CredentialStore.parse('{"credHelpers":{"gcr.io":"gcloud"}}', "f").source("gcr.io") // helper gcloud
   */
  source(host: string, repository?: string): CredentialSource {
    const base = credentialKey(host);
    if (base === null) return { kind: "none" };
    const helper = this.credHelpers.get(base) ?? this.credsStore;
    if (helper !== "") return { kind: "helper", helper, serverUrl: helperServerUrl(base) };
    let entry = this.byKey.get(base);
    if (repository !== undefined) {
      const parts = repository.split("/");
      for (let n = parts.length; n > 0; n--) {
        const hit = this.byKey.get(`${base}/${parts.slice(0, n).join("/")}`);
        if (hit !== undefined) {
          entry = hit;
          break;
        }
      }
    }
    if (entry === undefined) return { kind: "none" };
    return typeof entry === "string" ? { kind: "none", reason: entry } : { kind: "file", credential: entry };
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** Where credentials are read from: REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function defaultAuthFile(env: NodeJS.ProcessEnv): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.DOCKER_CONFIG) return path.join(env.DOCKER_CONFIG, "config.json");
  return path.join(env.HOME || os.homedir(), ".docker", "config.json");
}

/** Load a credentials file; a missing file means no credentials, an unreadable or malformed one is an error. */
export async function loadCredentials(file: string): Promise<CredentialStore> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return CredentialStore.empty();
    throw new CredentialsError(`cannot read ${file}: ${code ?? (error as Error).message}`);
  }
  return CredentialStore.parse(text, file);
}
