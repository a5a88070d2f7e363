// Registry authentication: `WWW-Authenticate` challenges, Basic headers, and Bearer tokens from a token realm, cached
// per realm, service, identity and scope until they expire. Concurrent token requests to one realm are batched into
// one request carrying several `scope` parameters.

import { createHash } from "node:crypto";
import { abortable } from "../deadline.js";
import type { Credential, CredentialStore } from "./credentials.js";
import { TtlCache } from "./cache.js";
import type { Clock } from "./cache.js";
import { sameSite } from "./site.js";

export interface Challenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[-._~+/0-9A-Za-z]/;

/**
 * Parse a `WWW-Authenticate` value (RFC 9110 §11.6.1): one or more challenges, each a scheme followed by a token68 or
 * comma-separated `name=value` parameters, values being tokens or quoted strings (which may contain commas).
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const challenges: Challenge[] = [];
  const skipSpace = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const skipSeparators = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ",")) i++;
  };
  const readWhile = (re: RegExp) => {
    const start = i;
    while (i < s.length && re.test(s[i] ?? "")) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let out = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      out += s[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return out;
  };

  skipSeparators();
  while (i < s.length) {
    const scheme = readWhile(TCHAR);
    if (scheme === "") break; // not a challenge: stop rather than guess
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skipSpace();
    let first = true;
    while (i < s.length) {
      const save = i;
      const name = readWhile(first ? TOKEN68_CHAR : TCHAR);
      if (name === "") {
        if (s[i] === ",") {
          skipSeparators();
          first = false;
          continue;
        }
        break;
      }
      skipSpace();
      if (s[i] !== "=") {
        i = save; // a bare token: the next challenge's scheme
        break;
      }
      let equals = 0;
      while (s[i] === "=") {
        equals++;
        i++;
      }
      skipSpace();
      const atEnd = i >= s.length || s[i] === ",";
      if (first && (equals > 1 || atEnd)) {
        challenge.token68 = name + "=".repeat(equals); // e.g. `Negotiate abc==`
        skipSpace();
        break;
      }
      if (equals > 1) break; // malformed: stop
      // Unquoted values should be tokens; accept anything up to a comma, as registries write realm=https://… too.
      const value = s[i] === '"' ? readQuoted() : readWhile(/[^,\s]/);
      challenge.params[name.toLowerCase()] = value;
      first = false;
      skipSpace();
      if (s[i] === ",") {
        i++;
        skipSpace();
        // After a comma comes another parameter, or the next challenge's scheme (a token not followed by `=`).
        const look = i;
        readWhile(TCHAR);
        skipSpace();
        const nextIsParam = s[i] === "=";
        i = look;
        if (!nextIsParam) break;
      } else if (i < s.length) {
        break;
      }
    }
    skipSeparators();
  }
  return challenges;
}

/** The challenge the client answers: Bearer when offered, else Basic. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer" && c.params.realm) ?? challenges.find((c) => c.scheme === "basic");
}

export function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString("base64")}`;
}

/**
 * The credential to send to a token realm, if any: the registry's own when the realm is on the same site as the
 * registry (registry-1.docker.io → auth.docker.io), else one configured for the realm's host itself, else none.
 */
export function realmCredential(
  registryHost: string,
  registryCredential: Credential | undefined,
  realm: URL,
  store: CredentialStore,
): Credential | undefined {
  if (registryCredential && sameSite(registryHost, realm.host)) return registryCredential;
  return store.get(realm.host);
}

export interface TokenAnswer {
  token: string;
  /** Lifetime from the token server's `expires_in`, in milliseconds. */
  expiresInMs: number;
}

export interface TokenRequest {
  realm: URL;
  service: string | undefined;
  scopes: string[];
  credential: Credential | undefined;
}

export type TokenFetcher = (request: TokenRequest) => Promise<TokenAnswer>;

/** Parse a token server's JSON answer: `token` or `access_token`, `expires_in` seconds (default 60). */
export function parseTokenResponse(body: string): TokenAnswer | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null) return null;
  const j = json as Record<string, unknown>;
  const token = typeof j.token === "string" && j.token !== "" ? j.token : j.access_token;
  if (typeof token !== "string" || token === "") return null;
  const expiresIn = typeof j.expires_in === "number" && j.expires_in > 0 ? j.expires_in : 60;
  return { token, expiresInMs: Math.min(expiresIn, 24 * 3600) * 1000 };
}

/** Token requests carry at most this many scopes, to keep URLs short. */
const MAX_SCOPES_PER_REQUEST = 10;

interface Waiter {
  scope: string;
  resolve: (token: string) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  request: Omit<TokenRequest, "scopes">;
  waiters: Waiter[];
}

export class TokenProvider {
  private readonly cache: TtlCache<string, string>;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly pending = new Map<string, Batch>();

  constructor(
    private readonly fetchToken: TokenFetcher,
    now: Clock = Date.now,
  ) {
    this.cache = new TtlCache<string, string>(60_000, 10_000, now);
  }

  /**
   * A token for one scope: from the cache, joined to a request already on its way, or batched into a new one. The
   * wait ends when `signal` aborts (the token request goes on for the others who wait for it).
   */
  token(
    realm: URL,
    service: string | undefined,
    scope: string,
    credential: Credential | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const batchKey = `${realm.href}\n${service ?? ""}\n${identity(credential)}`;
    const key = `${batchKey}\n${scope}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.inflight.get(key);
    if (running) return abortable(running, signal);
    const promise = new Promise<string>((resolve, reject) => {
      let batch = this.pending.get(batchKey);
      if (!batch) {
        batch = { request: { realm, service, credential }, waiters: [] };
        this.pending.set(batchKey, batch);
        // Wait for the current turn of the event loop so that concurrent resolutions share one request.
        setImmediate(() => void this.flush(batchKey));
      }
      batch.waiters.push({ scope, resolve, reject });
    });
    this.inflight.set(key, promise);
    const forget = () => this.inflight.delete(key);
    promise.then(forget, forget);
    return abortable(promise, signal);
  }

  /** Forget a cached token (the registry refused it before its announced expiry). */
  invalidate(realm: URL, service: string | undefined, scope: string, credential: Credential | undefined): void {
    this.cache.delete(`${realm.href}\n${service ?? ""}\n${identity(credential)}\n${scope}`);
  }

  private async flush(batchKey: string): Promise<void> {
    const batch = this.pending.get(batchKey);
    this.pending.delete(batchKey);
    if (!batch) return;
    const scopes = [...new Set(batch.waiters.map((w) => w.scope))];
    const chunks: string[][] = [];
    for (let start = 0; start < scopes.length; start += MAX_SCOPES_PER_REQUEST) {
      chunks.push(scopes.slice(start, start + MAX_SCOPES_PER_REQUEST));
    }
    await Promise.all(chunks.map((chunk) => this.fetchChunk(batchKey, batch, chunk)));
  }

  private async fetchChunk(batchKey: string, batch: Batch, scopes: string[]): Promise<void> {
    const settle = (scope: string, outcome: { token: string } | { error: unknown }) => {
      for (const w of batch.waiters) {
        if (w.scope !== scope) continue;
        if ("token" in outcome) w.resolve(outcome.token);
        else w.reject(outcome.error);
      }
    };
    try {
      const answer = await this.fetchToken({ ...batch.request, scopes });
      // Keep a margin so a token is not used in the last seconds of its life.
      const ttl = answer.expiresInMs - Math.min(10_000, answer.expiresInMs / 10);
      for (const scope of scopes) {
        this.cache.set(`${batchKey}\n${scope}`, answer.token, ttl);
        settle(scope, { token: answer.token });
      }
    } catch (error) {
      if (scopes.length === 1) {
        settle(scopes[0] ?? "", { error });
        return;
      }
      // One refused scope must not fail the others: ask again one scope at a time.
      await Promise.all(scopes.map((scope) => this.fetchChunk(batchKey, batch, [scope])));
    }
  }
}

/** A cache key for who asks: a hash, so that no secret sits in a key that might be printed while debugging. */
function identity(credential: Credential | undefined): string {
  if (!credential) return "anonymous";
  return createHash("sha256").update(`${credential.username}\0${credential.password}`).digest("hex").slice(0, 16);
}
