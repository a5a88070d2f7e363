// RedisJobQueue against a real redis-server: coalescing, one run per key at a time across replicas (in this process
// and in a child process), recovery of a job whose replica was killed mid-run, retries, fairness.

import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RedisJobQueue, type RedisQueueOptions } from "../../src/jobs/redis-queue.js";
import { checkRedis, startRedis, type LocalRedis } from "../helpers/redis-server.js";
import { readRecords, recordingRun, timeOverlaps, type TestJob } from "../helpers/queue-recorder.js";
import { coalescingScenarios, inProcessRecorder, testJob, testQueueFunctions, until } from "./queue-scenarios.js";

const hasRedis = checkRedis("the Redis queue tests");

let server: LocalRedis;
let redis: Redis;
let testNumber = 0;
/** Every test gets its own BullMQ prefix, so queues and keys never mix. */
let prefix = "";
const open: RedisJobQueue<TestJob>[] = [];
const children: ChildProcess[] = [];

/** Fast settings for tests: a dead replica is noticed within about 2 s. */
const FAST = {
  lockTtlMs: 1000,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
  lockRetryMs: 200,
  backoffMs: 50,
  idlePollMs: 20,
} satisfies Partial<RedisQueueOptions<TestJob>>;

function make(run: (job: TestJob) => Promise<void>, options: Partial<RedisQueueOptions<TestJob>> = {}) {
  const queue = new RedisJobQueue<TestJob>({
    url: server.url,
    concurrency: 4,
    prefix,
    ...FAST,
    ...testQueueFunctions,
    run,
    onQueueError: (error) => console.error("queue error:", error),
    ...options,
  });
  open.push(queue);
  return queue;
}

/** A replica in a child process (test/helpers/queue-replica.ts); resolves once its worker is ready. */
async function startReplica(config: Record<string, unknown>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "./test/helpers/ts-hooks.mjs", "test/helpers/queue-replica.ts", JSON.stringify(config)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => line === "ready" && resolve());
    child.once("exit", (code, signal) => reject(new Error(`replica exited early: ${code ?? signal}`)));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => resolve()));

describe.skipIf(!hasRedis)("RedisJobQueue", () => {
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });
  beforeEach(() => {
    prefix = `t${++testNumber}`;
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited(child);
    }
    await Promise.all(open.splice(0).map((q) => q.close()));
  });

  coalescingScenarios(async (run) => {
    const queue = make(run);
    await queue.ready();
    return queue;
  });

  it("pushes while nothing runs the key coalesce into one job: one run with all 100 ids", async () => {
    const recorder = inProcessRecorder(0);
    const producer = make(recorder.run, { worker: false });
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.push(testJob("owner/repo", i))));
    await producer.push(testJob("other/repo", 100));
    expect(await producer.size()).toBe(2);
    const consumer = make(recorder.run);
    await consumer.onIdle();
    expect(recorder.runs.map((r) => [r.key, r.ids.length])).toEqual(
      expect.arrayContaining([
        ["owner/repo", 100],
        ["other/repo", 1],
      ]),
    );
    expect(recorder.runs).toHaveLength(2);
    expect(recorder.runs.find((r) => r.key === "owner/repo")!.ids).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("a run waiting for its key's lock starts as soon as the lock is released, not after the retry delay", async () => {
    const recorder = inProcessRecorder(300);
    const queue = make(recorder.run, { lockRetryMs: 10_000 });
    await queue.push(testJob("k", 1));
    await until(() => recorder.started.length === 1);
    await queue.push(testJob("k", 2));
    await queue.onIdle();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1], [2]]);
    expect(recorder.runs[1]!.start - recorder.runs[0]!.end).toBeLessThan(1000);
  });

  it("takes installations in turn: a big backlog does not hold back another installation's work", async () => {
    const recorder = inProcessRecorder(0);
    const producer = make(recorder.run, { worker: false });
    for (let i = 0; i < 6; i++) await producer.push(testJob(`a${i}`, i, { group: "big" }));
    for (let i = 0; i < 2; i++) await producer.push(testJob(`b${i}`, 10 + i, { group: "small" }));
    make(recorder.run, { concurrency: 1 });
    await producer.onIdle();
    expect(recorder.runs.map((r) => r.key)).toEqual(["a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5"]);
  });

  it("two replicas here and one in a child process: 20 keys, bursts of pushes, no key runs twice at once, nothing lost", async () => {
    const ns = `${prefix}:rec`;
    const child = await startReplica({
      mode: "work",
      url: server.url,
      ns,
      replica: "child",
      durationMs: 25,
      queue: { ...FAST, prefix },
    });
    const a = make(recordingRun(redis, { ns, replica: "a", durationMs: 25 }));
    const b = make(recordingRun(redis, { ns, replica: "b", durationMs: 25 }));
    await Promise.all([a.ready(), b.ready()]);
    let id = 0;
    for (let burst = 0; burst < 6; burst++) {
      const pushes: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        const key = `org/repo-${(i * 7 + burst) % 20}`;
        pushes.push((i % 2 ? a : b).push(testJob(key, id++, { group: `inst-${i % 3}` })));
      }
      await Promise.all(pushes);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await a.onIdle();
    child.stdin!.write("stop\n");
    await exited(child);
    expect(child.exitCode).toBe(0);

    const { runs, overlaps } = await readRecords(redis, ns);
    expect(overlaps).toEqual([]);
    expect(timeOverlaps(runs)).toEqual([]);
    const ids = runs.flatMap((r) => r.ids).sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: id }, (_, i) => i));
    expect(new Set(runs.map((r) => r.key)).size).toBe(20);
    // Coalescing did something, and every replica took part.
    expect(runs.length).toBeLessThan(id);
    expect(new Set(runs.map((r) => r.replica))).toEqual(new Set(["a", "b", "child"]));
  });

  it("a job whose replica is killed mid-run is run again by another replica, with the same work", async () => {
    const ns = `${prefix}:rec`;
    const child = await startReplica({ mode: "crash", url: server.url, ns, replica: "doomed", queue: { ...FAST, prefix } });
    const producer = make(async () => undefined, { worker: false });
    await producer.push(testJob("owner/repo", 1, { recreate: true }));
    await exited(child);
    expect(child.signalCode).toBe("SIGKILL");
    expect(await redis.lrange(`${ns}:started`, 0, -1)).toHaveLength(1);
    // Work pushed after the crash is not lost either, and does not swallow the crashed run's work.
    await producer.push(testJob("owner/repo", 2));

    const started = Date.now();
    const recorder = inProcessRecorder(0);
    make(recorder.run);
    await until(() => recorder.runs.length === 2);
    await producer.onIdle();
    expect(recorder.runs.map((r) => r.ids).sort()).toEqual([[1], [2]]);
    expect(recorder.runs.find((r) => r.ids[0] === 1)!.recreate).toBe(true);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it("a job that kills every replica that takes it is given up after the second time, and reported", async () => {
    const ns = `${prefix}:rec`;
    const config = { mode: "crash", url: server.url, ns, replica: "doomed", queue: { ...FAST, prefix, maxStalls: 1 } };
    const first = await startReplica(config);
    const producer = make(async () => undefined, { worker: false });
    await producer.push(testJob("poison/repo", 7));
    await exited(first);
    const second = await startReplica(config);
    await exited(second);
    expect(await redis.lrange(`${ns}:started`, 0, -1)).toHaveLength(2);

    const errors: [string, number[]][] = [];
    const recorder = inProcessRecorder(0);
    make(recorder.run, { maxStalls: 1, onError: (error, job) => errors.push([(error as Error).message, job.ids]) });
    await until(() => errors.length === 1);
    await producer.onIdle();
    expect(errors).toEqual([[expect.stringMatching(/stalled/), [7]]]);
    expect(recorder.runs).toEqual([]);
  });

  it("retries a failing run with backoff, and reports a job once when it gives up", async () => {
    const attempts = new Map<string, number>();
    const errors: [string, number[]][] = [];
    const queue = make(
      async (job) => {
        const n = (attempts.get(job.key) ?? 0) + 1;
        attempts.set(job.key, n);
        if (job.key === "broken" || n === 1) throw new Error(`${job.key} failed (attempt ${n})`);
      },
      { attempts: 3, onError: (error, job) => errors.push([(error as Error).message, job.ids]) },
    );
    await queue.push(testJob("flaky", 1));
    await queue.push(testJob("broken", 2));
    await queue.onIdle();
    expect(attempts.get("flaky")).toBe(2);
    expect(attempts.get("broken")).toBe(3);
    expect(errors).toEqual([["broken failed (attempt 3)", [2]]]);
    // Nothing is left behind for the key: new work runs normally.
    await queue.push(testJob("flaky", 3));
    await queue.onIdle();
    expect(attempts.get("flaky")).toBe(3);
  });

  it("close() lets the running job finish and leaves queued work in Redis for the next replica", async () => {
    const recorder = inProcessRecorder(200);
    const queue = make(recorder.run, { concurrency: 1 });
    await queue.push(testJob("a", 1));
    await until(() => recorder.started.length === 1);
    await queue.push(testJob("b", 2));
    await queue.close();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1]]);
    await expect(queue.push(testJob("c", 3))).rejects.toThrow(/closed/);
    const next = make(recorder.run);
    await next.onIdle();
    expect(recorder.runs.map((r) => r.ids)).toEqual([[1], [2]]);
  });
});
