// Registry credentials from a Docker (or Podman) `config.json`: `{"auths": {"<key>": {"auth": base64(user:pass)}}}`.
// Keys name a registry as `host[:port]`, a URL, or Docker Hub's legacy `https://index.docker.io/v1/`; a key may carry a
// repository path (Podman), which then wins over the registry-wide entry for repositories under it.

import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface Credential {
  username: string;
  password: string;
}

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

function decodeAuth(value: string, where: string): Credential {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value.replace(/\s/g, ""))) {
    throw new CredentialsError(`${where}: "auth" is not base64`);
  }
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new CredentialsError(`${where}: "auth" does not decode to user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class CredentialStore {
  private readonly byKey: Map<string, Credential>;

  private constructor(entries: Map<string, Credential>) {
    this.byKey = entries;
  }

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
      map.set(normalized, { username: credential.username, password: credential.password });
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
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new CredentialsError(`${source} must contain a JSON object`);
    }
    const auths = (json as Record<string, unknown>).auths;
    if (auths === undefined) return CredentialStore.empty();
    if (typeof auths !== "object" || auths === null || Array.isArray(auths)) {
      throw new CredentialsError(`${source}: "auths" must be an object`);
    }
    const map = new Map<string, Credential>();
    for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
      const where = `${source}: auths["${key}"]`;
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        throw new CredentialsError(`${where} must be an object`);
      }
      const normalized = credentialKey(key);
      if (normalized === null) throw new CredentialsError(`${where}: the key is not a registry`);
      const e = entry as Record<string, unknown>;
      for (const field of ["auth", "username", "password"]) {
        if (e[field] !== undefined && typeof e[field] !== "string") {
          throw new CredentialsError(`${where}: "${field}" must be a string`);
        }
      }
      const auth = e.auth as string | undefined;
      const username = e.username as string | undefined;
      const password = e.password as string | undefined;
      if (auth !== undefined && auth !== "") map.set(normalized, decodeAuth(auth, where));
      else if (username && password !== undefined) map.set(normalized, { username, password });
      // Anything else (an empty entry kept by a credential helper, an identity token) gives no usable password.
    }
    return new CredentialStore(map);
  }

  /**
   * The credential for a registry host (`docker.io`, `registry-1.docker.io`, `ghcr.io`, `host:5000`) and, when given,
   * a repository: the most specific `host/path` entry covering the repository, else the host's entry.
   */
  get(host: string, repository?: string): Credential | undefined {
    const base = credentialKey(host);
    if (base === null) return undefined;
    if (repository !== undefined) {
      const parts = repository.split("/");
      for (let n = parts.length; n > 0; n--) {
        const hit = this.byKey.get(`${base}/${parts.slice(0, n).join("/")}`);
        if (hit) return hit;
      }
    }
    return this.byKey.get(base);
  }

  /** Whether any credential is configured for this host (any path). */
  hasHost(host: string): boolean {
    const base = credentialKey(host);
    if (base === null) return false;
    for (const key of this.byKey.keys()) if (key === base || key.startsWith(`${base}/`)) return true;
    return false;
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
