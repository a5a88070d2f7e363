// The HTTP layer under the registry client: every hop checked by the host policy, redirects followed by hand (so each
// one is checked and Authorization never crosses hosts), bounded bodies and time, a concurrency limit per host and one
// over all hosts, and retries of 429/5xx with backoff that honours Retry-After. A request's signal (its reference's
// deadline) ends everything: a wait for a slot, an exchange, a retry's sleep. Counts every request it sends, and
// reports each to an optional observer (metrics).

import { request } from "undici";
import type { Dispatcher } from "undici";
import { deadlineOf, sleep } from "../deadline.js";
import { KeyedLimiter } from "./cache.js";
import type { RegistryRequestInfo } from "./options.js";
import { INSECURE_HINT, type HostPolicy } from "./policy.js";
import { cleanText, errorMessageOf, readLimited } from "./response.js";
import { backoffDelay, parseRetryAfter } from "./retry.js";
import { RegistryError } from "./types.js";

export type RequestKind = "head" | "get" | "token";

export interface HttpRequest {
  /** POST only for token requests (an OAuth2 form): its redirects are not followed, as the body holds a secret. */
  method: "GET" | "HEAD" | "POST";
  url: URL;
  kind: RequestKind;
  headers?: Record<string, string>;
  /** Sent to this URL's origin only; dropped when a redirect leaves it. */
  authorization?: string;
  maxBytes: number;
  /** A POST's body. */
  body?: string;
  /** What is being fetched, for messages (`manifest docker.io/library/python:3.12`). */
  what: string;
  /** The deadline of the work this request is part of: no attempt, wait or retry goes on past it. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names, first value of each. */
  headers: Record<string, string>;
  body: Buffer;
  url: URL;
}

export interface TransportOptions {
  dispatcher: Dispatcher;
  policy: HostPolicy;
  totalTimeoutMs: number;
  connectTimeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  perHostConcurrency: number;
  /** Requests in flight over all hosts together. */
  maxConcurrency: number;
  userAgent: string;
  maxRedirects?: number;
  /** Told about every HTTP attempt (retries and redirect hops each count), for metrics. */
  onRequest?: (info: RegistryRequestInfo) => void;
}

export interface RequestCounts {
  head: number;
  get: number;
  token: number;
}

export interface TransportStats {
  requests: RequestCounts & { total: number };
  byHost: Record<string, RequestCounts>;
  retries: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Error bodies are read only this far: enough for a message. */
const ERROR_BODY_LIMIT = 64 * 1024;

/** The one key of the limit over all hosts. */
const ALL_HOSTS = "*";

export class Transport {
  private readonly perHost: KeyedLimiter;
  private readonly overall: KeyedLimiter;
  private readonly counts = new Map<string, RequestCounts>();
  private retries = 0;

  constructor(private readonly options: TransportOptions) {
    this.perHost = new KeyedLimiter(options.perHostConcurrency);
    this.overall = new KeyedLimiter(options.maxConcurrency);
  }

  /**
   * Send a request, retrying 429 and 5xx answers and transient network failures. Any other status is returned to
   * the caller; 429/5xx that outlast the retries become RATE_LIMITED / SERVER_ERROR.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const { maxRetries, retryBaseMs, maxRetryDelayMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw toRegistryError(req.signal.reason, req, this.options);
      let response: HttpResponse;
      try {
        response = await this.followRedirects(req);
      } catch (error) {
        const mapped = toRegistryError(error, req, this.options);
        if (attempt < maxRetries && isTransient(error)) {
          await this.pause(backoffDelay(attempt, retryBaseMs, maxRetryDelayMs), req);
          continue;
        }
        throw mapped;
      }
      if (response.status !== 429 && response.status < 500) return response;

      const retryAfter = parseRetryAfter(response.headers["retry-after"]);
      const tooLong = retryAfter !== null && retryAfter > maxRetryDelayMs;
      if (attempt < maxRetries && !tooLong) {
        await this.pause(retryAfter ?? backoffDelay(attempt, retryBaseMs, maxRetryDelayMs), req);
        continue;
      }
      throw statusError(response, req, attempt, retryAfter);
    }
  }

  /** The wait before a retry: it ends at the request's deadline, which then fails the request. */
  private async pause(ms: number, req: HttpRequest): Promise<void> {
    this.retries++;
    try {
      await sleep(ms, req.signal);
    } catch (reason) {
      throw toRegistryError(reason, req, this.options);
    }
  }

  stats(): TransportStats {
    const requests = { head: 0, get: 0, token: 0, total: 0 };
    const byHost: Record<string, RequestCounts> = {};
    for (const [host, c] of this.counts) {
      byHost[host] = { ...c };
      requests.head += c.head;
      requests.get += c.get;
      requests.token += c.token;
    }
    requests.total = requests.head + requests.get + requests.token;
    return { requests, byHost, retries: this.retries };
  }

  /** Report one attempt to the observer; an observer that throws must not fail the request. */
  private observe(url: URL, req: HttpRequest, started: number, status: number | undefined, error?: unknown): void {
    const onRequest = this.options.onRequest;
    if (!onRequest) return;
    const outcome =
      error === undefined
        ? `${Math.floor((status ?? 0) / 100)}xx`
        : toRegistryError(error, req, this.options).code.toLowerCase();
    try {
      onRequest({
        host: url.host,
        kind: req.kind,
        outcome,
        ...(status === undefined ? {} : { status }),
        durationMs: performance.now() - started,
      });
    } catch {
      // Metrics are best effort.
    }
  }

  private count(host: string, kind: RequestKind): void {
    const c = this.counts.get(host) ?? { head: 0, get: 0, token: 0 };
    c[kind]++;
    this.counts.set(host, c);
  }

  private async followRedirects(req: HttpRequest): Promise<HttpResponse> {
    const maxRedirects = this.options.maxRedirects ?? 3;
    let url = req.url;
    let method = req.method;
    let authorization = req.authorization;
    for (let hop = 0; ; hop++) {
      try {
        this.options.policy.check(url);
      } catch (error) {
        this.observe(url, req, performance.now(), undefined, error);
        throw error;
      }
      const response = await this.exchange(url, method, req, authorization);
      if (!REDIRECT_STATUSES.has(response.status) || method === "POST") return response;
      const location = response.headers.location;
      if (!location) return response;
      if (hop >= maxRedirects) {
        throw new RegistryError("INVALID_RESPONSE", `${req.what}: more than ${maxRedirects} redirects`, response.status);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RegistryError("INVALID_RESPONSE", `${req.what}: redirect to an invalid URL`, response.status);
      }
      // Credentials belong to one origin: a redirect elsewhere (blob storage, a CDN) goes without them.
      if (next.origin !== url.origin) authorization = undefined;
      if (response.status === 303 && method !== "HEAD") method = "GET";
      url = next;
    }
  }

  /**
   * One HTTP exchange, holding a slot of the host's limit and one of the limit over all hosts until the body is read.
   * The host's slot is taken first: a request waiting for a busy host must not hold one of the shared slots.
   */
  private exchange(
    url: URL,
    method: HttpRequest["method"],
    req: HttpRequest,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    const signal = req.signal;
    const send = () => this.overall.run(ALL_HOSTS, () => this.exchangeNow(url, method, req, authorization), signal);
    return this.perHost.run(url.host, send, signal);
  }

  private async exchangeNow(
    url: URL,
    method: HttpRequest["method"],
    req: HttpRequest,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { "user-agent": this.options.userAgent, ...req.headers };
    if (authorization) headers.authorization = authorization;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TotalTimeoutError()), this.options.totalTimeoutMs);
    // The request's deadline ends the exchange too, with its own reason.
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener("abort", onAbort, { once: true });
    this.count(url.host, req.kind);
    const started = performance.now();
    let status: number | undefined;
    try {
      const res = await request(url, {
        method,
        headers,
        ...(method === "POST" && req.body !== undefined ? { body: req.body } : {}),
        dispatcher: this.options.dispatcher,
        signal: controller.signal,
        headersTimeout: this.options.totalTimeoutMs,
        bodyTimeout: this.options.totalTimeoutMs,
      });
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        flat[name.toLowerCase()] = Array.isArray(value) ? (value[0] ?? "") : value;
      }
      status = res.statusCode;
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const limit = ok ? req.maxBytes : Math.min(req.maxBytes, ERROR_BODY_LIMIT);
      let body: Buffer;
      if (method === "HEAD" || REDIRECT_STATUSES.has(res.statusCode)) {
        await res.body.dump();
        body = Buffer.alloc(0);
      } else {
        const declared = Number(flat["content-length"]);
        if (ok && Number.isFinite(declared) && declared > req.maxBytes) {
          res.body.destroy();
          throw new RegistryError("TOO_LARGE", `${req.what} is ${declared} bytes, over the ${req.maxBytes}-byte limit`);
        }
        try {
          body = await readLimited(res.body, limit, req.what);
        } catch (error) {
          // An error page that goes on and on is still an error: keep its status, drop the rest of the body.
          if (!ok && error instanceof RegistryError && error.code === "TOO_LARGE") body = Buffer.alloc(0);
          else throw error;
        }
      }
      this.observe(url, req, started, status);
      return { status: res.statusCode, headers: flat, body, url };
    } catch (error) {
      this.observe(url, req, started, status, error);
      throw error;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
    }
  }
}

class TotalTimeoutError extends Error {
  override readonly name = "TotalTimeoutError";
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    const name = (e as { name?: unknown }).name;
    if (typeof name === "string") codes.push(name);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function findCause<T>(error: unknown, test: (e: unknown) => e is T): T | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    if (test(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const TRANSIENT = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "EAI_AGAIN", "UND_ERR_SOCKET", "ETIMEDOUT"]);

function isTransient(error: unknown): boolean {
  if (error instanceof RegistryError) return false;
  return errorCodes(error).some((c) => TRANSIENT.has(c));
}

/** Turn anything a request can throw into a RegistryError with a message fit for a user (no URLs with secrets). */
export function toRegistryError(error: unknown, req: HttpRequest, options: TransportOptions): RegistryError {
  if (error instanceof RegistryError) return error;
  const deadline = deadlineOf(error);
  if (deadline) return new RegistryError("TIMEOUT", `${req.what}: ${deadline.message}`, undefined, { cause: error });
  const host = req.url.host;
  const codes = errorCodes(error);
  const has = (...names: string[]) => names.some((n) => codes.includes(n));
  const refused = findCause(error, (e): e is Error => (e as { code?: unknown }).code === "EDIGESTPIN_REFUSED");
  if (refused) return new RegistryError("REFUSED_HOST", `${refused.message}; ${INSECURE_HINT}`);
  if (has("TotalTimeoutError", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT")) {
    return new RegistryError("TIMEOUT", `${req.what}: no complete answer from ${host} within ${options.totalTimeoutMs / 1000} s`);
  }
  if (has("UND_ERR_CONNECT_TIMEOUT")) {
    return new RegistryError("TIMEOUT", `${req.what}: could not connect to ${host} within ${options.connectTimeoutMs / 1000} s`);
  }
  if (has("ENOTFOUND")) return new RegistryError("NETWORK", `${req.what}: cannot resolve the host name ${host}`);
  if (has("ECONNREFUSED")) return new RegistryError("NETWORK", `${req.what}: ${host} refused the connection`);
  const tls = codes.find((c) => /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(c));
  if (tls) return new RegistryError("NETWORK", `${req.what}: the TLS certificate of ${host} is not trusted (${tls})`);
  const message = error instanceof Error ? cleanText(error.message, 200) : "unknown error";
  return new RegistryError("NETWORK", `${req.what}: request to ${host} failed: ${message}`);
}

function statusError(response: HttpResponse, req: HttpRequest, attempt: number, retryAfter: number | null): RegistryError {
  const detail = errorMessageOf(response.body);
  const tries = attempt + 1;
  const host = response.url.host;
  if (response.status === 429) {
    const wait = retryAfter === null ? "" : ` (it asks to retry after ${Math.ceil(retryAfter / 1000)} s)`;
    return new RegistryError(
      "RATE_LIMITED",
      `${req.what}: ${host} is rate limiting requests${wait}, gave up after ${tries} ${tries === 1 ? "try" : "tries"}` +
        (detail ? `: ${detail}` : ""),
      429,
    );
  }
  return new RegistryError(
    "SERVER_ERROR",
    `${req.what}: ${host} answered ${response.status} ${tries} ${tries === 1 ? "time" : "times"}` +
      (detail ? `: ${detail}` : ""),
    response.status,
  );
}
