import { describe, expect, it, vi } from "vitest";
import { WorkQueue, type QueueOptions } from "../../src/jobs/queue.js";

interface Job {
  key: string;
  group: string;
  /** Ids of every push folded into this job. */
  ids: number[];
}

let nextId = 0;
const job = (key: string, group = "g"): Job => ({ key, group, ids: [nextId++] });

/** Let every settled promise run its callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A queue whose jobs run until the test finishes them, recording what ran and checking, at every start, that no two
 * jobs of one key overlap and that no more than `concurrency` run.
 */
function harness(concurrency: number, extra: Partial<QueueOptions<Job>> = {}) {
  const started: Job[] = [];
  const running = new Map<Job, { resolve: () => void; reject: (e: unknown) => void }>();
  let maxRunning = 0;
  const overlaps: string[] = [];
  const queue = new WorkQueue<Job>({
    concurrency,
    keyOf: (j) => j.key,
    groupOf: (j) => j.group,
    merge: (waiting, incoming) => ({ ...waiting, ids: [...waiting.ids, ...incoming.ids] }),
    run: (j) =>
      new Promise<void>((resolve, reject) => {
        if ([...running.keys()].some((r) => r.key === j.key)) overlaps.push(j.key);
        started.push(j);
        running.set(j, { resolve, reject });
        maxRunning = Math.max(maxRunning, running.size);
      }),
    ...extra,
  });

  function find(key: string): Job {
    const found = [...running.keys()].find((j) => j.key === key);
    if (!found) throw new Error(`${key} is not running; running: ${[...running.keys()].map((j) => j.key).join(", ")}`);
    return found;
  }

  return {
    queue,
    started,
    overlaps,
    get maxRunning() {
      return maxRunning;
    },
    runningKeys: () => [...running.keys()].map((j) => j.key).sort(),
    /** Finish the running job of `key` and let the queue react. */
    async finish(key: string, error?: unknown) {
      const j = find(key);
      const control = running.get(j)!;
      running.delete(j);
      if (error === undefined) control.resolve();
      else control.reject(error);
      await settle();
    },
    /** Finish the oldest running job. */
    async finishOldest() {
      const [oldest] = running.keys();
      if (!oldest) throw new Error("nothing is running");
      await this.finish(oldest.key);
    },
  };
}

describe("WorkQueue concurrency", () => {
  it("runs at once up to the limit and never more", async () => {
    const h = harness(3);
    for (let i = 0; i < 10; i++) h.queue.push(job(`k${i}`));
    expect(h.runningKeys()).toEqual(["k0", "k1", "k2"]);
    expect(h.queue.inFlight).toBe(3);
    expect(h.queue.size).toBe(7);
    while (h.started.length < 10 || h.queue.inFlight > 0) await h.finishOldest();
    expect(h.maxRunning).toBe(3);
    expect(h.started.map((j) => j.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    expect(h.queue.size).toBe(0);
  });

  it("starts a waiting job as soon as a slot frees", async () => {
    const h = harness(2);
    for (const k of ["a", "b", "c"]) h.queue.push(job(k));
    expect(h.runningKeys()).toEqual(["a", "b"]);
    await h.finish("b");
    expect(h.runningKeys()).toEqual(["a", "c"]);
  });

  it("keeps the limit under random timing (property over many runs)", async () => {
    for (let round = 0; round < 20; round++) {
      let running = 0;
      let max = 0;
      const perKey = new Map<string, number>();
      let keyOverlap = false;
      const queue = new WorkQueue<Job>({
        concurrency: 1 + (round % 4),
        keyOf: (j) => j.key,
        groupOf: (j) => j.group,
        merge: (w, i) => ({ ...w, ids: [...w.ids, ...i.ids] }),
        run: async (j) => {
          running++;
          max = Math.max(max, running);
          perKey.set(j.key, (perKey.get(j.key) ?? 0) + 1);
          if ((perKey.get(j.key) ?? 0) > 1) keyOverlap = true;
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          perKey.set(j.key, (perKey.get(j.key) ?? 0) - 1);
          running--;
        },
      });
      for (let i = 0; i < 40; i++) {
        queue.push(job(`k${Math.floor(Math.random() * 6)}`, `g${i % 3}`));
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await queue.onIdle();
      expect(max).toBeLessThanOrEqual(1 + (round % 4));
      expect(keyOverlap).toBe(false);
      expect(running).toBe(0);
    }
  });
});

describe("WorkQueue keys", () => {
  it("never runs two jobs of one key at once, even with free slots", async () => {
    const h = harness(4);
    h.queue.push(job("repo"));
    h.queue.push(job("repo"));
    await settle();
    expect(h.runningKeys()).toEqual(["repo"]);
    expect(h.queue.size).toBe(1);
    h.queue.push(job("other"));
    expect(h.runningKeys()).toEqual(["other", "repo"]);
    await h.finish("repo");
    expect(h.runningKeys()).toEqual(["other", "repo"]);
    await h.finish("repo");
    await h.finish("other");
    expect(h.overlaps).toEqual([]);
    expect(h.started.map((j) => j.key)).toEqual(["repo", "other", "repo"]);
  });

  it("folds jobs waiting on one key into one, through merge in arrival order", async () => {
    const h = harness(1);
    h.queue.push(job("busy"));
    const first = job("repo");
    const second = job("repo");
    const third = job("repo");
    for (const j of [first, second, third]) h.queue.push(j);
    expect(h.queue.size).toBe(1);
    await h.finish("busy");
    expect(h.runningKeys()).toEqual(["repo"]);
    await h.finish("repo");
    const runs = h.started.filter((j) => j.key === "repo");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.ids).toEqual([...first.ids, ...second.ids, ...third.ids]);
  });

  it("runs a job pushed while its key runs once more afterwards, however many times it was pushed", async () => {
    const h = harness(2);
    h.queue.push(job("repo"));
    const again = [job("repo"), job("repo"), job("repo")];
    for (const j of again) h.queue.push(j);
    await settle();
    expect(h.started).toHaveLength(1);
    await h.finish("repo");
    expect(h.started).toHaveLength(2);
    expect(h.started[1]?.ids).toEqual(again.flatMap((j) => j.ids));
    await h.finish("repo");
    await h.queue.onIdle();
    expect(h.started).toHaveLength(2);
    expect(h.overlaps).toEqual([]);
  });

  it("does not merge a finished job with a later one", async () => {
    const merge = vi.fn((w: Job, i: Job) => ({ ...w, ids: [...w.ids, ...i.ids] }));
    const h = harness(1, { merge });
    h.queue.push(job("repo"));
    await h.finish("repo");
    h.queue.push(job("repo"));
    await h.finish("repo");
    expect(merge).not.toHaveBeenCalled();
    expect(h.started).toHaveLength(2);
  });
});

describe("WorkQueue fairness", () => {
  it("does not let a group with 100 jobs starve a group that arrives later with 1", async () => {
    const h = harness(2);
    for (let i = 0; i < 100; i++) h.queue.push(job(`big-${i}`, "big-org"));
    await h.finishOldest();
    h.queue.push(job("small-repo", "small-org"));
    const startedBefore = h.started.length;
    // Free at most two slots: the small group must have started by then.
    await h.finishOldest();
    if (!h.started.some((j) => j.key === "small-repo")) await h.finishOldest();
    const position = h.started.findIndex((j) => j.key === "small-repo");
    expect(position).toBeGreaterThanOrEqual(startedBefore);
    expect(position - startedBefore).toBeLessThan(2);
  });

  it("with one slot, takes groups in turn while each has work", async () => {
    const h = harness(1);
    for (let i = 0; i < 5; i++) {
      for (const g of ["a", "b", "c"]) h.queue.push(job(`${g}${i}`, g));
    }
    while (h.queue.inFlight > 0) await h.finishOldest();
    const groups = h.started.map((j) => j.group).join("");
    expect(groups).toHaveLength(15);
    // After the first start, every window of three starts covers all three groups.
    const turns = groups.slice(1, 13);
    for (let i = 0; i + 3 <= turns.length; i++) expect(new Set(turns.slice(i, i + 3)).size, turns).toBe(3);
  });

  it("keeps arrival order within a group", async () => {
    const h = harness(1);
    for (let i = 0; i < 5; i++) h.queue.push(job(`k${i}`, "only"));
    while (h.queue.inFlight > 0) await h.finishOldest();
    expect(h.started.map((j) => j.key)).toEqual(["k0", "k1", "k2", "k3", "k4"]);
  });

  it("lets another group take the slot while a group's only waiting key is still running", async () => {
    const h = harness(2);
    h.queue.push(job("repo", "a"));
    h.queue.push(job("repo", "a")); // waits for the running one
    h.queue.push(job("x", "b"));
    h.queue.push(job("y", "b"));
    expect(h.runningKeys()).toEqual(["repo", "x"]);
    await h.finish("x");
    expect(h.runningKeys()).toEqual(["repo", "y"]);
  });
});

describe("WorkQueue errors", () => {
  it("sends a failing job to onError and keeps going", async () => {
    const onError = vi.fn();
    const h = harness(1, { onError });
    const failing = job("bad");
    h.queue.push(failing);
    h.queue.push(job("good"));
    const boom = new Error("boom");
    await h.finish("bad", boom);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(boom, failing);
    expect(h.runningKeys()).toEqual(["good"]);
    await h.finish("good");
    await h.queue.onIdle();
    expect(h.queue.inFlight).toBe(0);
  });

  it("frees the key of a failed job", async () => {
    const h = harness(1, { onError: () => {} });
    h.queue.push(job("repo"));
    await h.finish("repo", new Error("first"));
    h.queue.push(job("repo"));
    expect(h.runningKeys()).toEqual(["repo"]);
  });

  it("survives a run that throws before returning a promise", async () => {
    const onError = vi.fn();
    const ran: string[] = [];
    const queue = new WorkQueue<Job>({
      concurrency: 1,
      keyOf: (j) => j.key,
      groupOf: (j) => j.group,
      merge: (w) => w,
      run: (j) => {
        if (j.key === "sync-throw") throw new Error("synchronous");
        ran.push(j.key);
        return Promise.resolve();
      },
      onError,
    });
    expect(() => queue.push(job("sync-throw"))).not.toThrow();
    queue.push(job("after"));
    queue.push(job("sync-throw"));
    await queue.onIdle();
    expect(ran).toEqual(["after"]);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(queue.inFlight).toBe(0);
  });

  it("survives an onError that throws, and failures without onError", async () => {
    const ran: string[] = [];
    for (const onError of [undefined, () => { throw new Error("handler broke"); }]) {
      const queue = new WorkQueue<Job>({
        concurrency: 1,
        keyOf: (j) => j.key,
        groupOf: (j) => j.group,
        merge: (w) => w,
        run: async (j) => {
          if (j.key === "bad") throw new Error("boom");
          ran.push(j.key);
        },
        ...(onError ? { onError } : {}),
      });
      queue.push(job("bad"));
      queue.push(job("good"));
      await queue.onIdle();
      await settle();
    }
    expect(ran).toEqual(["good", "good"]);
  });
});

describe("WorkQueue onIdle", () => {
  it("resolves at once when nothing is queued", async () => {
    const h = harness(1);
    await expect(h.queue.onIdle()).resolves.toBeUndefined();
  });

  it("resolves only when nothing waits or runs, including work pushed meanwhile", async () => {
    const h = harness(2);
    h.queue.push(job("a"));
    h.queue.push(job("b"));
    let idle = 0;
    void h.queue.onIdle().then(() => idle++);
    void h.queue.onIdle().then(() => idle++);
    await h.finish("a");
    expect(idle).toBe(0);
    h.queue.push(job("a"));
    await h.finish("b");
    expect(idle).toBe(0);
    await h.finish("a");
    expect(idle).toBe(2);
  });

  it("waits for a re-queued key's second run", async () => {
    const h = harness(1);
    h.queue.push(job("repo"));
    h.queue.push(job("repo"));
    let idle = false;
    void h.queue.onIdle().then(() => (idle = true));
    await h.finish("repo");
    expect(idle).toBe(false);
    await h.finish("repo");
    expect(idle).toBe(true);
  });
});
