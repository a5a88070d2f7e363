// Registry authentication: `WWW-Authenticate` challenges, Basic headers, and Bearer tokens from a token realm, cached
// per registry, realm, service, identity and scope until they expire. Concurrent token requests to one realm for one
// registry are batched into one request carrying several `scope` parameters.
//
// The rule every function here serves: a credential, and every token obtained with it, is only for the registry it
// is configured for. A challenge picks the realm and service, never whose credential is used nor the scope.

import { abortable } from "../deadline.js";
import type { Credential } from "./credentials.js";
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
 * The credential to send to the token realm a registry's challenge names: the registry's own, and only when the realm
 * is on the registry's site (registry-1.docker.io → auth.docker.io; an IP address is its own site, any port) and does
 * not downgrade https to plain HTTP. Otherwise none: the token is fetched anonymously. Never a credential configured
 * for another host, the realm's included, so a challenge cannot borrow another registry's credential.
 *
 * @example realmCredential(new URL("https://registry-1.docker.io/"), hub, new URL("https://auth.docker.io/token")) // hub
 */
export function realmCredential(
  registry: URL,
  registryCredential: Credential | undefined,
  realm: URL,
): Credential | undefined {
  if (!registryCredential || !sameSite(registry.host, realm.host)) return undefined;
  if (registry.protocol === "https:" && realm.protocol !== "https:") return undefined;
  return registryCredential;
}

export interface TokenAnswer {
  token: string;
  /** Lifetime from the token server's `expires_in`, in milliseconds. */
  expiresInMs: number;
}

/** Whose token: a token is cached, shared and sent only under the same key. */
export interface TokenKey {
  /** The registry (`host[:port]` contacted) the token is for and sent to: never handed to another registry. */
  registry: string;
  realm: URL;
  service: string | undefined;
  /** The registry's own credential when `realmCredential` allows it, else undefined (anonymous). */
  credential: Credential | undefined;
}

export interface TokenRequest extends TokenKey {
  scopes: string[];
}

export type TokenFetcher = (request: TokenRequest) => Promise<TokenAnswer>;

/** The longest token accepted; real ones (JWTs with a certificate chain included) stay well under it. */
export const MAX_TOKEN_CHARS = 16 * 1024;
/** RFC 6750's b64token: what a Bearer credential may contain (nothing that could end or split a header). */
const B64TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Parse a token server's JSON answer: `token` or `access_token`, `expires_in` seconds (default 60, at most a day).
 * Null when it carries no usable token: a token must be an RFC 6750 b64token of at most MAX_TOKEN_CHARS.
 *
 * @example parseTokenResponse('{"token":"abc","expires_in":300}') // { token: "abc", expiresInMs: 300000 }
 */
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
  if (typeof token !== "string" || token.length > MAX_TOKEN_CHARS || !B64TOKEN_RE.test(token)) return null;
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
  request: TokenKey;
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
   * A token for one scope: from the cache, joined to a request already on its way, or batched into a new one. Only a
   * token fetched for the same registry, realm, service and identity is ever reused. The wait ends when `signal`
   * aborts (the token request goes on for the others who wait for it).
   *
   * @example await provider.token({ registry: "ghcr.io", realm, service: "ghcr.io", credential }, "repository:a/b:pull")
   */
  token(key: TokenKey, scope: string, signal?: AbortSignal): Promise<string> {
    const batchKey = batchKeyOf(key);
    const cacheKey = `${batchKey}\n${scope}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.inflight.get(cacheKey);
    if (running) return abortable(running, signal);
    const promise = new Promise<string>((resolve, reject) => {
      let batch = this.pending.get(batchKey);
      if (!batch) {
        batch = { request: { ...key }, waiters: [] };
        this.pending.set(batchKey, batch);
        // Wait for the current turn of the event loop so that concurrent resolutions share one request.
        setImmediate(() => void this.flush(batchKey));
      }
      batch.waiters.push({ scope, resolve, reject });
    });
    this.inflight.set(cacheKey, promise);
    const forget = () => this.inflight.delete(cacheKey);
    promise.then(forget, forget);
    return abortable(promise, signal);
  }

  /** Forget a cached token (the registry refused it before its announced expiry). */
  invalidate(key: TokenKey, scope: string): void {
    this.cache.delete(`${batchKeyOf(key)}\n${scope}`);
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

function batchKeyOf({ registry, realm, service, credential }: TokenKey): string {
  return `${registry}\n${realm.href}\n${service ?? ""}\n${identity(credential)}`;
}

/** Opaque names of the credentials seen; a credential object keeps its name while it lives. */
const identities = new WeakMap<Credential, string>();
let identitiesGiven = 0;

/**
 * A cache key for who asks: an opaque name given to each credential object, so that no secret, not even a hash of
 * one, sits in a key. A credential read again (a helper's answer after its time-to-live) is another identity, and
 * never reuses the tokens of the one before.
 */
function identity(credential: Credential | undefined): string {
  if (!credential) return "anonymous";
  let name = identities.get(credential);
  if (name === undefined) identities.set(credential, (name = `credential-${++identitiesGiven}`));
  return name;
}
