// The embedded work queue: bounded concurrency, one job per key at a time, repeated work on a key coalesced, and
// round-robin between groups (installations) so one large organization does not starve the others.

export interface QueueOptions<T> {
  concurrency: number;
  /** What the work is about: jobs with the same key never run at once and coalesce while waiting. */
  keyOf: (job: T) => string;
  /** Fairness group, e.g. the installation. */
  groupOf: (job: T) => string;
  /** Fold a new job into one already waiting for the same key. */
  merge: (waiting: T, incoming: T) => T;
  run: (job: T) => Promise<void>;
  onError?: (error: unknown, job: T) => void;
}

export class WorkQueue<T> {
  /** Waiting jobs by key, in arrival order within each group. */
  private readonly waiting = new Map<string, T>();
  private readonly groups = new Map<string, string[]>();
  private readonly running = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private closed = false;

  constructor(private readonly options: QueueOptions<T>) {}

  /** Add work; returns at once. */
  push(job: T): void {
    if (this.closed) return;
    const key = this.options.keyOf(job);
    const existing = this.waiting.get(key);
    if (existing !== undefined) {
      this.waiting.set(key, this.options.merge(existing, job));
      return;
    }
    this.waiting.set(key, job);
    const group = this.options.groupOf(job);
    const keys = this.groups.get(group);
    if (keys) keys.push(key);
    else this.groups.set(group, [key]);
    this.pump();
  }

  get size(): number {
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Stop: waiting work is dropped and later pushes are ignored; resolves when the running jobs have finished. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    this.groups.clear();
    return this.onIdle();
  }

  /** Resolves when nothing is waiting or running. */
  onIdle(): Promise<void> {
    if (this.active === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private reportError(error: unknown, job: T): void {
    try {
      this.options.onError?.(error, job);
    } catch {
      // The error handler failed too; there is nobody left to tell.
    }
  }

  /** The next runnable key, taking groups in turn. */
  private next(): string | undefined {
    for (const [group, keys] of this.groups) {
      const index = keys.findIndex((k) => !this.running.has(k));
      if (index === -1) continue;
      const [key] = keys.splice(index, 1);
      // Move this group to the back: the next pick starts with another installation.
      this.groups.delete(group);
      if (keys.length > 0) this.groups.set(group, keys);
      return key;
    }
    return undefined;
  }

  private pump(): void {
    while (this.active < this.options.concurrency) {
      const key = this.next();
      if (key === undefined) break;
      const job = this.waiting.get(key) as T;
      this.waiting.delete(key);
      this.running.add(key);
      this.active++;
      // A run that throws before returning its promise, or an onError that throws, must not wedge the key or leave
      // a rejection unhandled.
      void new Promise<void>((resolve) => resolve(this.options.run(job)))
        .catch((error: unknown) => this.reportError(error, job))
        .finally(() => {
          this.running.delete(key);
          this.active--;
          this.pump();
          if (this.active === 0 && this.waiting.size === 0) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
          }
        });
    }
  }
}
