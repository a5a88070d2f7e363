import { afterEach, describe, expect, it } from "vitest";
import { MemoryJobQueue } from "../../src/jobs/memory-queue.js";
import { WorkQueue } from "../../src/jobs/queue.js";
import type { TestJob } from "../helpers/queue-recorder.js";
import { coalescingScenarios, inProcessRecorder, testJob, testQueueFunctions, until } from "./queue-scenarios.js";

const open: MemoryJobQueue<TestJob>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});

function make(run: (job: TestJob) => Promise<void>, concurrency = 4) {
  const queue = new MemoryJobQueue<TestJob>({ concurrency, ...testQueueFunctions, run });
  open.push(queue);
  return queue;
}

describe("MemoryJobQueue", () => {
  coalescingScenarios(async (run) => make(run));

  it("wraps an existing WorkQueue", async () => {
    const recorder = inProcessRecorder(0);
    const work = new WorkQueue<TestJob>({ concurrency: 1, ...testQueueFunctions, run: recorder.run });
    const queue = new MemoryJobQueue(work);
    expect(queue.queue).toBe(work);
    await queue.push(testJob("a", 1));
    await queue.onIdle();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1]]);
  });

  it("close() drops waiting work, waits for the running job and refuses new pushes", async () => {
    const recorder = inProcessRecorder(150);
    const queue = make(recorder.run, 1);
    await queue.push(testJob("a", 1));
    await queue.push(testJob("b", 2));
    await until(() => recorder.started.length === 1);
    expect(await queue.size()).toBe(1);
    await queue.close();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1]]);
    expect(await queue.size()).toBe(0);
    await expect(queue.push(testJob("c", 3))).rejects.toThrow(/closed/);
    await queue.onIdle();
    expect(recorder.started).toHaveLength(1);
  });
});
