// Conditional GET requests for an Octokit: remember each answer's ETag (or Last-Modified), send it back as
// If-None-Match (If-Modified-Since), and when GitHub answers 304 Not Modified — which does not count against the
// rate limit — hand the remembered answer back as if it were a 200. A second pass over unchanged repositories
// then costs (almost) nothing.
//
// Answers are remembered per namespace + method + full URL (query included) + Accept header; never per token,
// which changes every hour. Give each installation its own `namespace` when several share a store: GitHub's
// validators are content hashes, so a shared entry is only ever served when the content is the same, but separate
// namespaces keep installations from evicting or overwriting each other's entries.

import type { Octokit } from "./files.js";

/** A remembered 200 answer. Plain data (JSON bodies, text, or an ArrayBuffer for binary media types). */
export interface CachedResponse {
  etag?: string;
  lastModified?: string;
  status: number;
  url: string;
  /** Every response header, `link` included (pagination follows it). */
  headers: Record<string, string>;
  data: unknown;
  /** Approximate size of `data` in bytes. */
  size: number;
}

/**
 * Where answers are remembered. Methods may be async (a Redis-backed store); a store that throws only makes the
 * request unconditional. A shared store should serialize `data` with its `ArrayBuffer`s (binary media types).
 */
export interface ConditionalCache {
  get(key: string): CachedResponse | undefined | Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
}

export interface MemoryCacheOptions {
  /** Default 5,000. */
  maxEntries?: number;
  /** Total of the entries' sizes. Default 64 MiB. */
  maxBytes?: number;
}

/** An in-process LRU store, bounded by entry count and total size. */
export class MemoryConditionalCache implements ConditionalCache {
  private readonly entries = new Map<string, CachedResponse>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private total = 0;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 5_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  get(key: string): CachedResponse | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: CachedResponse): void {
    this.delete(key);
    if (value.size > this.maxBytes) return;
    this.entries.set(key, value);
    this.total += value.size;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.size;
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.total -= value.size;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Sum of the entries' sizes. */
  get bytes(): number {
    return this.total;
  }
}

export interface ConditionalOptions {
  /** Separates the entries of different installations in a shared store, e.g. `installation:42`. Default `""`. */
  namespace?: string;
  /** Bodies larger than this are not remembered. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface ConditionalStats {
  /** GET requests sent with a validator (If-None-Match or If-Modified-Since). */
  conditional: number;
  /** Of those, answered 304 and served from the store: requests that cost no rate limit. */
  notModified: number;
  /** 200 answers remembered. */
  stored: number;
  /** 200 answers not remembered: no validator, or a body over `maxBodyBytes`. */
  skipped: number;
  /** Store get/set failures (the request went on without the store). */
  storeErrors: number;
}

export interface ConditionalRequests {
  readonly cache: ConditionalCache;
  readonly namespace: string;
  /** Counters of this Octokit's requests. */
  stats(): ConditionalStats;
}

function zeroStats(): ConditionalStats {
  return { conditional: 0, notModified: 0, stored: 0, skipped: 0, storeErrors: 0 };
}

const totals = zeroStats();
const enabled = new WeakMap<object, ConditionalRequests>();

/** Counters over every Octokit of the process (for metrics). */
export function stats(): ConditionalStats {
  return { ...totals };
}

/** Headers of a 304 that do not describe the remembered body. */
const BODY_HEADERS = new Set(["content-length", "content-type", "content-encoding", "transfer-encoding"]);

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** The body's size in bytes, or undefined when it cannot be measured (and so is not remembered). */
function sizeOf(data: unknown): number | undefined {
  if (typeof data === "string") return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  try {
    const json = JSON.stringify(data, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    return json === undefined ? undefined : Buffer.byteLength(json);
  } catch {
    return undefined;
  }
}

type Hookable = Pick<Octokit, "hook" | "request">;

/**
 * Makes `octokit`'s GET requests conditional (see the file comment). Non-GET requests, requests that carry their
 * own If-None-Match / If-Modified-Since, and streamed responses pass through untouched. Enabling twice on the same
 * Octokit returns the first handle.
 */
export function enableConditionalRequests(
  octokit: Hookable,
  store: ConditionalCache = new MemoryConditionalCache(),
  options: ConditionalOptions = {},
): ConditionalRequests {
  const existing = enabled.get(octokit);
  if (existing) return existing;
  const namespace = options.namespace ?? "";
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const counts = zeroStats();
  const count = (key: keyof ConditionalStats): void => {
    counts[key]++;
    totals[key]++;
  };

  const safely = async <T>(action: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await action();
    } catch {
      count("storeErrors");
      return undefined;
    }
  };

  octokit.hook.wrap("request", async (request, requestOptions) => {
    const method = String(requestOptions.method ?? "GET").toUpperCase();
    const headers = requestOptions.headers as Record<string, unknown>;
    const streamed = (requestOptions.request as { parseSuccessResponseBody?: boolean } | undefined)?.parseSuccessResponseBody === false;
    if (method !== "GET" || streamed || headers["if-none-match"] !== undefined || headers["if-modified-since"] !== undefined) {
      return request(requestOptions);
    }
    const parsed = octokit.request.endpoint.parse(requestOptions);
    const key = `${namespace}\n${method} ${parsed.url}\n${String(parsed.headers.accept ?? "")}`;
    const cached = await safely(() => store.get(key));
    let conditional = false;
    if (cached?.etag !== undefined || cached?.lastModified !== undefined) {
      // In place: before-after-hook binds this very object into the inner hooks (a new one would not be sent).
      if (cached.etag !== undefined) headers["if-none-match"] = cached.etag;
      else headers["if-modified-since"] = cached.lastModified;
      conditional = true;
      count("conditional");
    }

    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(requestOptions);
    } catch (error) {
      if (!conditional || statusOf(error) !== 304 || !cached) throw error;
      count("notModified");
      const fresh = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers ?? {};
      const merged: Record<string, string> = { ...cached.headers };
      for (const [name, value] of Object.entries(fresh)) {
        if (!BODY_HEADERS.has(name) && typeof value === "string") merged[name] = value;
      }
      return { status: cached.status, url: cached.url, headers: merged, data: structuredClone(cached.data) } as typeof response;
    }

    if (response.status === 200) {
      const responseHeaders = response.headers as Record<string, unknown>;
      const etag = header(responseHeaders, "etag");
      const lastModified = header(responseHeaders, "last-modified");
      const size = etag !== undefined || lastModified !== undefined ? sizeOf(response.data) : undefined;
      if (size !== undefined && size <= maxBodyBytes) {
        const remembered: CachedResponse = {
          ...(etag !== undefined ? { etag } : {}),
          ...(lastModified !== undefined ? { lastModified } : {}),
          status: response.status,
          url: response.url,
          headers: Object.fromEntries(Object.entries(responseHeaders).filter((e): e is [string, string] => typeof e[1] === "string")),
          // A copy: callers (and pagination) may change the data they get.
          data: structuredClone(response.data),
          size,
        };
        await safely(() => store.set(key, remembered));
        count("stored");
      } else {
        count("skipped");
        if (cached && store.delete) await safely(() => store.delete?.(key));
      }
    }
    return response;
  });

  const handle: ConditionalRequests = { cache: store, namespace, stats: () => ({ ...counts }) };
  enabled.set(octokit, handle);
  return handle;
}
