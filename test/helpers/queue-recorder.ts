// A `run` for queue tests that records every run in Redis, so that runs made by several queue instances, and by
// other processes, can be checked together: which ids each run carried, and whether two runs of one key overlapped
// (a per-key counter in Redis, raised at start and lowered at the end; any start that finds it above zero is an
// overlap).

import type { Redis } from "ioredis";

export interface TestJob {
  key: string;
  group: string;
  /** One id per push folded into this job (the app's comment-reply targets). */
  ids: number[];
  /** OR'ed on merge (the app's recreate flag). */
  recreate: boolean;
}

export interface RunRecord {
  key: string;
  ids: number[];
  recreate: boolean;
  replica: string;
  start: number;
  end: number;
}

export const testQueueFunctions = {
  keyOf: (job: TestJob) => job.key,
  groupOf: (job: TestJob) => job.group,
  merge: (waiting: TestJob, incoming: TestJob): TestJob => ({
    ...waiting,
    ids: [...waiting.ids, ...incoming.ids],
    recreate: waiting.recreate || incoming.recreate,
  }),
};

export interface RecorderOptions {
  /** Namespace of the recording keys. */
  ns: string;
  replica: string;
  /** How long each run takes (ms). */
  durationMs?: number | ((job: TestJob) => number);
  /** Called once the run has been recorded as started (e.g. to crash the process). */
  onStart?: (job: TestJob) => void | Promise<void>;
}

export function recordingRun(redis: Redis, options: RecorderOptions): (job: TestJob) => Promise<void> {
  return async (job) => {
    const start = Date.now();
    const concurrent = await redis.incr(`${options.ns}:running:${job.key}`);
    if (concurrent > 1) await redis.rpush(`${options.ns}:overlaps`, job.key);
    await redis.rpush(`${options.ns}:started`, JSON.stringify({ key: job.key, ids: job.ids, replica: options.replica }));
    await options.onStart?.(job);
    const duration = typeof options.durationMs === "function" ? options.durationMs(job) : (options.durationMs ?? 0);
    if (duration > 0) await new Promise((resolve) => setTimeout(resolve, duration));
    await redis.decr(`${options.ns}:running:${job.key}`);
    const record: RunRecord = { ...job, replica: options.replica, start, end: Date.now() };
    await redis.rpush(`${options.ns}:runs`, JSON.stringify(record));
  };
}

export async function readRecords(redis: Redis, ns: string): Promise<{ runs: RunRecord[]; overlaps: string[] }> {
  const runs = (await redis.lrange(`${ns}:runs`, 0, -1)).map((text) => JSON.parse(text) as RunRecord);
  const overlaps = await redis.lrange(`${ns}:overlaps`, 0, -1);
  return { runs, overlaps };
}

/** Runs of one key that overlap in time (start before the previous run's end). */
export function timeOverlaps(runs: RunRecord[]): string[] {
  const byKey = new Map<string, RunRecord[]>();
  for (const run of runs) byKey.set(run.key, [...(byKey.get(run.key) ?? []), run]);
  const found: string[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) if (list[i]!.start < list[i - 1]!.end) found.push(key);
  }
  return found;
}
