// The work queue on Redis (BullMQ), for several replicas sharing one Redis. Same contract as the embedded queue
// (src/jobs/queue.ts): work on one key coalesces while it waits, one job per key runs at a time (across replicas),
// and installations take turns. Job data must be JSON.
//
// How it works. BullMQ's job data cannot be merged safely: between reading a waiting job and updating it, a worker can
// take it, and the merged-in trigger is lost. So the work itself lives in our own keys and BullMQ jobs are only
// tokens that say "this key has work":
//
//   <base>:pending:<k>  LIST of JSON jobs pushed since the last run took them.
//   <base>:sched:<k>    id of the token that will take them (set while one is queued and has not taken yet).
//   <base>:taken:<id>   what token <id> took: kept until its run succeeds or fails for good, so a retry (error or
//                       a replica that died mid-run) runs the same work again.
//   <base>:lock:<k>     the per-key run lock (src/jobs/lock.ts).
//   <base>:group:<g>    tokens queued for installation g, for priorities.
//
// push: one Lua script appends to pending:<k> and, if sched:<k> is empty, stores a new token id there; then the token
//   is added to BullMQ under that id. Later pushes find the same id and add it again, which BullMQ ignores while the
//   job exists (and which re-creates it if a crash lost it). So any number of pushes while a token waits coalesce.
// run: the worker takes the per-key lock (held: the token goes to "delayed" and retries shortly), then one Lua script
//   moves pending:<k> to taken:<id> and clears sched:<k>, and the taken jobs are folded with `merge` and run. A push
//   during the run finds sched empty and queues a new token, which waits for the lock: the key runs once more after.
//   When a run ends, the key's next token is promoted if it was delayed on the lock, so it need not wait the retry.
// stalled: BullMQ moves a job whose worker stopped renewing its lock (lockDurationMs) back to wait at the next stall
//   check (stalledIntervalMs); another replica takes it, waits for the dead replica's key lock to expire
//   (lockTtlMs), finds taken:<id> and runs it. Delivery is at least once: a replica that dies after `run` finished
//   but before BullMQ recorded it makes the work run again.
// fairness: BullMQ hands out jobs FIFO (within a priority). Each new token gets priority = the number of tokens its
//   installation has queued (1 for the first, 2 for the second, … capped), so a large installation's backlog does not
//   hold back a small installation's first job: roughly the embedded queue's round-robin.
//
// Not supported: Redis Cluster (the scripts touch keys in different slots).

import { createHash, randomBytes } from "node:crypto";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { RedisLock } from "./lock.js";
import type { QueueOptions } from "./queue.js";
import { closeRedis, connectRedis, queueConnection, workerConnection } from "./redis.js";
import type { JobQueue } from "./types.js";

/**
 * The embedded queue's options (`concurrency` counts this replica's jobs; keys never run at once in the whole cluster;
 * `onError` hears of a job only once it failed for good, after its retries), and Redis's own.
 */
export interface RedisQueueOptions<T> extends QueueOptions<T> {
  /** REDIS_URL: redis://[user:password@]host[:port][/db] or rediss://… */
  url: string;
  /** Errors not tied to a job: connections, BullMQ, a key lock lost while running. Default: console.error. */
  onQueueError?: (error: unknown) => void;
  /** TTL of the per-key run lock, renewed every third of it while running (default 30 s). */
  lockTtlMs?: number;
  /** BullMQ job lock: a worker that stops renewing it for this long counts as dead (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs (default half of lockDurationMs). */
  stalledIntervalMs?: number;
  /**
   * Stalls a job survives before it fails (default 3): a replica starved of CPU can miss a renewal without dying, while
   * a job that kills every replica that takes it must not go round for ever.
   */
  maxStalls?: number;
  /** How soon a job whose key is locked by another run tries again (default 2 s). */
  lockRetryMs?: number;
  /** Runs a job gets when `run` throws (default 3), with exponential backoff from `backoffMs` (default 10 s). */
  attempts?: number;
  backoffMs?: number;
  /** BullMQ queue name (no ":"; default "scans") and key prefix (default "digest-pin"). */
  queueName?: string;
  prefix?: string;
  /** Start a worker in this process (default true); false makes a producer only. */
  worker?: boolean;
  /** How often onIdle() polls the job counts (default 50 ms). */
  idlePollMs?: number;
}

/** What a BullMQ job carries: which key has work. The work itself is in pending:/taken: keys. */
interface Token {
  key: string;
  group: string;
}

const DATA_TTL_MS = 7 * 24 * 3600_000;
const GROUP_TTL_MS = 24 * 3600_000;
const MAX_PRIORITY = 1000;

/**
 * KEYS: pending, sched, group. ARGV: job JSON, candidate token id, data TTL, group TTL, priority cap.
 * Returns { token id, 1 if that id is new, priority }.
 */
const PUSH = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local id = redis.call('GET', KEYS[2])
local created = 0
if not id then
  id = ARGV[2]
  created = 1
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
redis.call('SET', KEYS[2], id, 'PX', ARGV[3])
local n = tonumber(redis.call('GET', KEYS[3]) or '1')
if n < 1 then n = 1 end
if n > tonumber(ARGV[5]) then n = tonumber(ARGV[5]) end
return {id, created, n}
`;

/**
 * KEYS: taken:<id>, pending, sched, group. ARGV: data TTL.
 * A retry finds what it took before; otherwise the pending jobs move to taken:<id> and the key's token is consumed.
 */
const TAKE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('LRANGE', KEYS[1], 0, -1)
end
if redis.call('DEL', KEYS[3]) == 1 then
  if redis.call('DECR', KEYS[4]) <= 0 then redis.call('DEL', KEYS[4]) end
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {}
end
redis.call('RENAME', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)
`;

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 24);

export class RedisJobQueue<T> implements JobQueue<T> {
  private readonly redis: Redis;
  private readonly queue: Queue<Token>;
  private readonly worker: Worker<Token> | undefined;
  private readonly base: string;
  private readonly background = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  private readonly lockTtlMs: number;
  private readonly lockRetryMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RedisQueueOptions<T>) {
    const queueName = options.queueName ?? "scans";
    const prefix = options.prefix ?? "digest-pin";
    this.base = `${prefix}:${queueName}:dp`;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.lockRetryMs = options.lockRetryMs ?? 2_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 10_000;
    const reportQueueError = (error: unknown) => this.reportQueueError(error);

    // Our scripts get their own connection: BullMQ bundles its own ioredis (a different version from ours), so it
    // opens its connections itself from the URL.
    this.redis = connectRedis(options.url, { name: `${prefix}:${queueName}`, onError: reportQueueError });
    this.queue = new Queue<Token>(queueName, { connection: queueConnection(options.url), prefix });
    this.queue.on("error", reportQueueError);

    if (options.worker ?? true) {
      const lockDuration = options.lockDurationMs ?? 30_000;
      this.worker = new Worker<Token>(queueName, (job, token) => this.process(job, token), {
        connection: workerConnection(options.url),
        prefix,
        concurrency: options.concurrency,
        lockDuration,
        stalledInterval: options.stalledIntervalMs ?? Math.max(1, Math.floor(lockDuration / 2)),
        maxStalledCount: options.maxStalls ?? 3,
      });
      this.worker.on("error", reportQueueError);
      // A job that never reached `process` this time (e.g. failed for stalling too often) still reports its work.
      this.worker.on("failed", (job) => {
        if (job) this.track(this.reportAbandoned(job));
      });
    }
  }

  /** Resolves once the connections are up and (with a worker) the worker is ready to take jobs. */
  async ready(): Promise<void> {
    await this.queue.waitUntilReady();
    await this.worker?.waitUntilReady();
  }

  async push(job: T): Promise<void> {
    if (this.closing) throw new Error("the queue is closed");
    const key = this.options.keyOf(job);
    const group = this.options.groupOf(job);
    const k = digest(key);
    const candidate = `${k}-${randomBytes(6).toString("hex")}`;
    const result = (await this.redis.eval(
      PUSH,
      3,
      `${this.base}:pending:${k}`,
      `${this.base}:sched:${k}`,
      `${this.base}:group:${digest(group)}`,
      JSON.stringify(job),
      candidate,
      String(DATA_TTL_MS),
      String(GROUP_TTL_MS),
      String(MAX_PRIORITY),
    )) as [string, number, number];
    const [id, , priority] = result;
    // Adding an id that exists is a no-op, so this is both "queue a token" and "make sure the token is there".
    await this.queue.add(
      "job",
      { key, group },
      {
        jobId: id,
        priority,
        attempts: this.attempts,
        backoff: { type: "exponential", delay: this.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /**
   * Jobs waiting, including those delayed (for a key's lock, or a retry): about one per key with queued work. A job
   * a worker is just putting back to wait for its key's lock counts for a moment as running, not waiting.
   */
  async size(): Promise<number> {
    const counts = await this.queue.getJobCounts("waiting", "prioritized", "delayed");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Resolves when no job is waiting, delayed or running anywhere in the cluster. */
  async onIdle(): Promise<void> {
    const pollMs = this.options.idlePollMs ?? 50;
    for (;;) {
      const counts = await this.queue.getJobCounts("waiting", "prioritized", "delayed", "active");
      if (Object.values(counts).every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Stop taking jobs, wait for running ones to finish, close the connections. Queued work stays in Redis. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker?.close();
      await Promise.allSettled([...this.background]);
      await this.queue.close();
      await closeRedis(this.redis);
    })();
    return this.closing;
  }

  private async process(job: Job<Token>, token: string | undefined): Promise<void> {
    const { key } = job.data;
    const k = digest(key);
    const lock = await RedisLock.tryAcquire(this.redis, `${this.base}:lock:${k}`, this.lockTtlMs, {
      onLost: () => this.reportQueueError(new Error(`lost the run lock of ${key} while running it`)),
    });
    if (!lock) {
      // Another run of this key is under way (here or on another replica): try again after it.
      await job.moveToDelayed(Date.now() + this.lockRetryMs, token);
      throw new DelayedError();
    }
    const takenKey = `${this.base}:taken:${job.id}`;
    let work: T | undefined;
    try {
      const entries = (await this.redis.eval(
        TAKE,
        4,
        takenKey,
        `${this.base}:pending:${k}`,
        `${this.base}:sched:${k}`,
        `${this.base}:group:${digest(job.data.group)}`,
        String(DATA_TTL_MS),
      )) as string[];
      if (entries.length === 0) return;
      work = this.fold(entries);
      await this.options.run(work);
      await this.redis.del(takenKey);
    } catch (error) {
      const final =
        job.attemptsMade + 1 >= (job.opts.attempts ?? 1) ||
        error instanceof UnrecoverableError ||
        (error as Error | undefined)?.name === "UnrecoverableError";
      if (final && work !== undefined) {
        await this.redis.del(takenKey).catch(() => undefined);
        this.reportError(error, work);
      }
      throw error;
    } finally {
      await lock.release().catch((error: unknown) => this.reportQueueError(error));
      this.track(this.promoteNext(k));
    }
  }

  private fold(entries: string[]): T {
    const jobs = entries.map((entry) => JSON.parse(entry) as T);
    return jobs.slice(1).reduce((waiting, incoming) => this.options.merge(waiting, incoming), jobs[0] as T);
  }

  /** The key's queued token may be delayed waiting for the lock we just released: let it run now. */
  private async promoteNext(k: string): Promise<void> {
    try {
      const id = await this.redis.get(`${this.base}:sched:${k}`);
      if (!id) return;
      const next = await this.queue.getJob(id);
      if (next && (await next.isDelayed())) await next.promote();
    } catch {
      // It moved on by itself (or will, after lockRetryMs).
    }
  }

  /** A job failed without `process` seeing it through (e.g. it stalled too often): report what it had taken. */
  private async reportAbandoned(job: Job<Token>): Promise<void> {
    if (job.finishedOn === undefined) return; // it will be retried
    const takenKey = `${this.base}:taken:${job.id}`;
    try {
      const entries = await this.redis.lrange(takenKey, 0, -1);
      if (entries.length === 0) return;
      await this.redis.del(takenKey);
      this.reportError(new Error(job.failedReason || "job failed"), this.fold(entries));
    } catch (error) {
      this.reportQueueError(error);
    }
  }

  private track(promise: Promise<unknown>): void {
    this.background.add(promise);
    void promise.finally(() => this.background.delete(promise));
  }

  private reportError(error: unknown, job: T): void {
    try {
      this.options.onError?.(error, job);
    } catch {
      // The error handler failed too; there is nobody left to tell.
    }
  }

  private reportQueueError(error: unknown): void {
    try {
      if (this.options.onQueueError) this.options.onQueueError(error);
      else console.error("digest-pin queue:", error instanceof Error ? error.message : error);
    } catch {
      // As above.
    }
  }
}
