// Small key-value stores with expiry: in memory for one process, on Redis for several replicas.

import type { Redis } from "ioredis";
import { closeRedis, connectRedis } from "../jobs/redis.js";
import type { KeyValueStore } from "../jobs/types.js";

export interface MemoryStoreOptions {
  /** At most this many entries; the least recently used go first (default 10 000). */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Entry {
  value: string;
  /** 0: never. */
  expiresAt: number;
}

/** A Map with per-entry expiry and an LRU bound. Expired entries are dropped when read or when space is needed. */
export class MemoryStore implements KeyValueStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (this.expired(entry)) return null;
    // Re-insert: Map order is our recency order.
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlMs = 0): Promise<void> {
    checkTtl(ttlMs);
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: ttlMs > 0 ? this.now() + ttlMs : 0 });
    if (this.entries.size > this.maxEntries) this.evict();
  }

  async setIfAbsent(key: string, value: string, ttlMs = 0): Promise<boolean> {
    // No await between the check and the set: one process cannot interleave another caller here.
    const entry = this.entries.get(key);
    if (entry && !this.expired(entry)) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private expired(entry: Entry): boolean {
    return entry.expiresAt !== 0 && entry.expiresAt <= this.now();
  }

  private evict(): void {
    // Expired entries first, then the least recently used.
    for (const [key, entry] of this.entries) if (this.expired(entry)) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}

export interface RedisStoreOptions {
  /** A REDIS_URL (the store opens and closes its own connection) or a connection the caller owns. */
  redis: string | Redis;
  /** Put before every key, e.g. "digest-pin:digests:". */
  prefix: string;
  /** Where connection errors go, when the store opens the connection. */
  onError?: (error: Error) => void;
}

/** Keys under a prefix on Redis; expiry by PX. */
export class RedisStore implements KeyValueStore {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    this.owned = typeof options.redis === "string";
    this.redis =
      typeof options.redis === "string"
        ? connectRedis(options.redis, { name: "digest-pin:store", onError: options.onError })
        : options.redis;
    this.prefix = options.prefix;
  }

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlMs = 0): Promise<void> {
    checkTtl(ttlMs);
    if (ttlMs > 0) await this.redis.set(this.prefix + key, value, "PX", Math.ceil(ttlMs));
    else await this.redis.set(this.prefix + key, value);
  }

  async setIfAbsent(key: string, value: string, ttlMs = 0): Promise<boolean> {
    checkTtl(ttlMs);
    const answer =
      ttlMs > 0
        ? await this.redis.set(this.prefix + key, value, "PX", Math.ceil(ttlMs), "NX")
        : await this.redis.set(this.prefix + key, value, "NX");
    return answer === "OK";
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  /** Close the connection if the store opened it. */
  async close(): Promise<void> {
    if (this.owned) await closeRedis(this.redis);
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new RangeError(`ttlMs must be 0 or a positive number, got ${ttlMs}`);
}
