import { describe, expect, it } from "vitest";
import { Inflight, KeyedLimiter, TtlCache } from "../../src/registry/cache.js";

describe("TtlCache", () => {
  it("expires entries and evicts the oldest when full", () => {
    let now = 0;
    const cache = new TtlCache<string, number>(100, 2, () => now);
    cache.set("a", 1);
    cache.set("b", 2);
    now = 50;
    cache.set("a", 3); // refreshed: now the newest
    cache.set("c", 4); // evicts b
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(3);
    now = 149;
    expect(cache.get("a")).toBe(3);
    now = 150;
    expect(cache.get("a")).toBeUndefined();
    cache.set("z", 1, 0); // ttl 0: not cached
    expect(cache.get("z")).toBeUndefined();
  });
});

describe("Inflight", () => {
  it("shares one run between concurrent callers and forgets it after settling, errors included", async () => {
    const inflight = new Inflight<string, number>();
    let runs = 0;
    const task = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 5));
      return runs;
    };
    expect(await Promise.all([inflight.run("k", task), inflight.run("k", task), inflight.run("j", task)])).toEqual([2, 2, 2]);
    expect(inflight.joined).toBe(1);
    await expect(inflight.run("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await inflight.run("k", async () => 7)).toBe(7);
  });
});

describe("KeyedLimiter", () => {
  it("runs at most `limit` tasks per key, in order, and keys independently", async () => {
    const limiter = new KeyedLimiter(2);
    const active: Record<string, number> = {};
    const peak: Record<string, number> = {};
    const order: number[] = [];
    const task = (key: string, i: number) =>
      limiter.run(key, async () => {
        active[key] = (active[key] ?? 0) + 1;
        peak[key] = Math.max(peak[key] ?? 0, active[key]);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        active[key]--;
        return i;
      });
    await Promise.all([...Array.from({ length: 6 }, (_, i) => task("a", i)), task("b", 100), task("b", 101), task("b", 102)]);
    expect(peak).toEqual({ a: 2, b: 2 });
    expect(order.filter((i) => i < 100)).toEqual([0, 1, 2, 3, 4, 5]);
    await expect(limiter.run("a", async () => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await limiter.run("a", async () => "slot released")).toBe("slot released");
    expect(() => new KeyedLimiter(0)).toThrow(RangeError);
  });

  it("lets a waiter whose signal aborts leave the queue without taking a slot", async () => {
    const limiter = new KeyedLimiter(1);
    let release!: () => void;
    const holder = limiter.run("a", () => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const leaving = limiter.run("a", async () => "never", controller.signal);
    const next = limiter.run("a", async () => "next");
    controller.abort(new Error("deadline"));
    await expect(leaving).rejects.toThrow("deadline");
    release();
    await holder;
    expect(await next).toBe("next");
    await expect(limiter.run("a", async () => "x", controller.signal)).rejects.toThrow("deadline");
  });
});

describe("Inflight and its callers' deadlines", () => {
  const pending = () => {
    let seen: AbortSignal | undefined;
    const task = (signal: AbortSignal) =>
      new Promise<number>((resolve, reject) => {
        seen = signal;
        signal.addEventListener("abort", () => reject(signal.reason));
        setTimeout(() => resolve(1), 50);
      });
    return { task, signal: () => seen };
  };

  it("a caller that leaves stops waiting; the task goes on for a caller without a deadline", async () => {
    const inflight = new Inflight<string, number>();
    const { task, signal } = pending();
    const early = new AbortController();
    const left = inflight.run("k", task, early.signal);
    const stays = inflight.run("k", task);
    early.abort(new Error("scan over"));
    await expect(left).rejects.toThrow("scan over");
    expect(await stays).toBe(1);
    expect(signal()?.aborted).toBe(false);
  });

  it("stops the task once every caller has left", async () => {
    const inflight = new Inflight<string, number>();
    const { task, signal } = pending();
    const a = new AbortController();
    const b = new AbortController();
    const first = inflight.run("k", task, a.signal);
    const second = inflight.run("k", task, b.signal);
    a.abort(new Error("a over"));
    await expect(first).rejects.toThrow("a over");
    expect(signal()?.aborted).toBe(false);
    b.abort(new Error("b over"));
    await expect(second).rejects.toThrow("b over");
    expect(signal()?.aborted).toBe(true);
    // The key is free again: a new caller starts a new task.
    expect(await inflight.run("k", async () => 2)).toBe(2);
  });
});
