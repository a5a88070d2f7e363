// Small in-memory building blocks: a bounded TTL cache, in-flight coalescing, and a per-key concurrency limit.
// A drift check asks the same tags again and again; these keep it to one registry request per distinct tag.
// Waits (for a slot, for a shared answer) end when the waiter's signal aborts: no one waits past their deadline.

import { setMaxListeners } from "node:events";
import { abortable } from "../deadline.js";

export type Clock = () => number;

/** A map whose entries expire after a time-to-live; the oldest entries go first when it is full. */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly defaultTtlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: Clock = Date.now,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, ttlMs = this.defaultTtlMs): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key); // re-insert so that insertion order stays oldest-first
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

interface Shared<V> {
  promise: Promise<V>;
  controller: AbortController;
  /** Callers still waiting; one without a signal waits for good. */
  waiting: number;
}

/**
 * Concurrent calls with the same key share one task; the key is free again once it settles. A caller whose `signal`
 * aborts stops waiting (with the signal's reason); once every caller has stopped waiting, the task's own signal aborts
 * too, so that work nobody waits for ends at once instead of holding connections for the rest of its budget.
 *
 * @example
 * const lookups = new Inflight<string, Resolution>();
 * await lookups.run("docker.io/library/python:3.12", (signal) => lookup(signal), deadline.signal);
 */
export class Inflight<K, V> {
  private readonly running = new Map<K, Shared<V>>();
  /** How many calls joined a task already running. */
  joined = 0;

  run(key: K, task: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal): Promise<V> {
    let shared = this.running.get(key);
    if (shared !== undefined) {
      this.joined++;
    } else {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      const promise = (async () => {
        try {
          return await task(controller.signal);
        } finally {
          this.running.delete(key);
        }
      })();
      promise.catch(() => undefined); // when every caller has left, nobody else hears of the failure
      shared = { promise, controller, waiting: 0 };
      this.running.set(key, shared);
    }
    return this.wait(shared, signal);
  }

  private wait(shared: Shared<V>, signal: AbortSignal | undefined): Promise<V> {
    shared.waiting++;
    return abortable(shared.promise, signal, () => {
      if (--shared.waiting === 0) shared.controller.abort(signal?.reason);
    });
  }
}

/**
 * At most `limit` tasks at a time per key (a registry host; one key for a limit over everything); the rest wait in
 * order. A waiter whose `signal` aborts leaves the queue (rejecting with the signal's reason) without taking a slot.
 *
 * @example
 * const perHost = new KeyedLimiter(8);
 * await perHost.run("ghcr.io", () => request(url), deadline.signal);
 */
export class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("the concurrency limit must be a positive integer");
  }

  async run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(key, signal);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  private acquire(key: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const count = this.active.get(key) ?? 0;
    if (count < this.limit) {
      this.active.set(key, count + 1);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(key) ?? [];
      const onAbort = () => {
        const at = queue.indexOf(granted);
        if (at !== -1) queue.splice(at, 1);
        if (queue.length === 0 && this.waiting.get(key) === queue) this.waiting.delete(key);
        reject(signal?.reason);
      };
      const granted = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      queue.push(granted);
      this.waiting.set(key, queue);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private release(key: string): void {
    const queue = this.waiting.get(key);
    const next = queue?.shift();
    if (next) {
      if (queue && queue.length === 0) this.waiting.delete(key);
      next(); // the slot passes straight to the next task
      return;
    }
    const count = (this.active.get(key) ?? 1) - 1;
    if (count === 0) this.active.delete(key);
    else this.active.set(key, count);
  }
}
