// A lease on a Redis key: SET NX PX with a random token, renewed while held, released only by its owner.
// Good enough for "at most one replica works on this repository at a time" on a single Redis (not Redlock: with a
// failover to a replica that missed the SET, two holders are possible for up to one TTL).

import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/** Delete the key only if it still holds our token. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Extend the key's expiry only if it still holds our token. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface LockOptions {
  /** Renew every `ttlMs / 3` until released (default true). */
  autoRenew?: boolean;
  /** Called once when a renewal finds the lock gone (expired, or taken over), or renewals kept failing until expiry. */
  onLost?: (lock: RedisLock) => void;
}

export class RedisLock {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private released = false;
  /** Until when the lock is ours at least, as far as this process knows (local clock). */
  private validUntil: number;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly token: string,
    readonly ttlMs: number,
    private readonly options: LockOptions,
    acquiredAt: number,
  ) {
    this.validUntil = acquiredAt + ttlMs;
  }

  /** Take the lock if nobody holds it; null when someone does. */
  static async tryAcquire(redis: Redis, key: string, ttlMs: number, options: LockOptions = {}): Promise<RedisLock | null> {
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lock TTL must be a positive integer, got ${ttlMs}`);
    const token = randomBytes(16).toString("hex");
    const startedAt = Date.now();
    const ok = await redis.set(key, token, "PX", ttlMs, "NX");
    if (ok !== "OK") return null;
    const lock = new RedisLock(redis, key, token, ttlMs, options, startedAt);
    if (options.autoRenew ?? true) lock.startRenewal();
    return lock;
  }

  /**
   * Wait for the lock: retry every `retryMs` until `timeoutMs` has passed; null if it never came free.
   */
  static async acquire(
    redis: Redis,
    key: string,
    ttlMs: number,
    { timeoutMs, retryMs = 50, ...options }: LockOptions & { timeoutMs: number; retryMs?: number },
  ): Promise<RedisLock | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lock = await RedisLock.tryAcquire(redis, key, ttlMs, options);
      if (lock || Date.now() >= deadline) return lock;
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, Math.max(0, deadline - Date.now()))));
    }
  }

  /** True while the lock is ours as far as we know: not released, not found lost, not past its last known expiry. */
  get held(): boolean {
    return !this.released && !this.lost && Date.now() < this.validUntil;
  }

  /** Extend the lock by its TTL; false (and the lock counts as lost) if it is no longer ours. */
  async renew(): Promise<boolean> {
    if (this.released || this.lost) return false;
    const startedAt = Date.now();
    const result = await this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs));
    if (result === 1) {
      this.validUntil = startedAt + this.ttlMs;
      return true;
    }
    this.markLost();
    return false;
  }

  /** Give the lock up; true if it was still ours. Safe to call more than once. */
  async release(): Promise<boolean> {
    this.stopRenewal();
    if (this.released) return false;
    this.released = true;
    const result = await this.redis.eval(RELEASE, 1, this.key, this.token);
    return result === 1;
  }

  private startRenewal(): void {
    const every = Math.max(1, Math.floor(this.ttlMs / 3));
    this.timer = setInterval(() => {
      this.renew().catch(() => {
        // Redis unreachable: keep trying while the lease may still be ours.
        if (Date.now() >= this.validUntil) this.markLost();
      });
    }, every);
    this.timer.unref();
  }

  private stopRenewal(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.stopRenewal();
    try {
      this.options.onLost?.(this);
    } catch {
      // The callback's own failure has nowhere to go.
    }
  }
}
