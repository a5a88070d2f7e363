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
});
