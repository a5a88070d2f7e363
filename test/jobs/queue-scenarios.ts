// Coalescing scenarios that every JobQueue backend must pass: the embedded queue (memory-queue.test.ts) and the
// Redis queue (redis-queue.test.ts) run the same ones.

import { expect, it } from "vitest";
import type { JobQueue } from "../../src/jobs/types.js";
import type { TestJob } from "../helpers/queue-recorder.js";
import { testQueueFunctions } from "../helpers/queue-recorder.js";

export { testQueueFunctions };

export interface InProcessRun {
  key: string;
  ids: number[];
  recreate: boolean;
  start: number;
  end: number;
}

/** A `run` that records into arrays and notes any overlap of one key's runs. */
export function inProcessRecorder(durationMs: number) {
  const runs: InProcessRun[] = [];
  const started: TestJob[] = [];
  const running = new Map<string, number>();
  const overlaps: string[] = [];
  const run = async (job: TestJob) => {
    const start = Date.now();
    const n = (running.get(job.key) ?? 0) + 1;
    running.set(job.key, n);
    if (n > 1) overlaps.push(job.key);
    started.push(job);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    running.set(job.key, (running.get(job.key) ?? 1) - 1);
    runs.push({ key: job.key, ids: job.ids, recreate: job.recreate, start, end: Date.now() });
  };
  return { run, runs, started, overlaps };
}

export const testJob = (key: string, id: number, extra: Partial<TestJob> = {}): TestJob => ({
  key,
  group: "g",
  ids: [id],
  recreate: false,
  ...extra,
});

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Register the shared scenarios. `make` builds a queue (with a worker) around the given run function. */
export function coalescingScenarios(make: (run: (job: TestJob) => Promise<void>) => Promise<JobQueue<TestJob>>) {
  it("100 pushes for one key run once or twice, never at once, and keep every id and the recreate flag", async () => {
    const recorder = inProcessRecorder(300);
    const queue = await make(recorder.run);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => queue.push(testJob("owner/repo", i, { recreate: i === 57 }))),
    );
    await queue.onIdle();
    expect(recorder.runs.length).toBeGreaterThanOrEqual(1);
    expect(recorder.runs.length).toBeLessThanOrEqual(2);
    expect(recorder.overlaps).toEqual([]);
    const ids = recorder.runs.flatMap((r) => r.ids).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(recorder.runs.some((r) => r.recreate)).toBe(true);
    expect(await queue.size()).toBe(0);
  });

  it("a push while the key's job runs makes it run once more, after the first", async () => {
    const recorder = inProcessRecorder(300);
    const queue = await make(recorder.run);
    await queue.push(testJob("k", 1));
    await until(() => recorder.started.length === 1);
    await queue.push(testJob("k", 2));
    await queue.push(testJob("k", 3, { recreate: true }));
    // One job waits (on Redis it may be caught for a moment between a worker taking it and putting it back to wait
    // for the key's lock, when it counts as neither waiting nor delayed).
    expect(await queue.size()).toBeLessThanOrEqual(1);
    await queue.onIdle();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1], [2, 3]]);
    expect(recorder.runs[1]!.recreate).toBe(true);
    expect(recorder.runs[1]!.start).toBeGreaterThanOrEqual(recorder.runs[0]!.end);
    expect(recorder.overlaps).toEqual([]);
  });

  it("different keys run side by side", async () => {
    const recorder = inProcessRecorder(200);
    const queue = await make(recorder.run);
    for (let i = 0; i < 3; i++) await queue.push(testJob(`k${i}`, i));
    await queue.onIdle();
    expect(recorder.runs).toHaveLength(3);
    const starts = recorder.runs.map((r) => r.start);
    const ends = recorder.runs.map((r) => r.end);
    // All three were running at one moment.
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
  });
}
