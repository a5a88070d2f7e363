import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore, RedisStore } from "../../src/state/store.js";
import { checkRedis, startRedis, type LocalRedis } from "../helpers/redis-server.js";

const hasRedis = checkRedis("the RedisStore tests");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryStore", () => {
  it("gets, sets, overwrites and deletes", async () => {
    const store = new MemoryStore();
    expect(await store.get("a")).toBeNull();
    await store.set("a", "1");
    await store.set("a", "2");
    expect(await store.get("a")).toBe("2");
    await store.delete("a");
    expect(await store.get("a")).toBeNull();
    await store.delete("missing");
  });

  it("expires entries after their TTL; 0 or none means never", async () => {
    let now = 1_000;
    const store = new MemoryStore({ now: () => now });
    await store.set("short", "x", 100);
    await store.set("forever", "y");
    await store.set("zero", "z", 0);
    now += 99;
    expect(await store.get("short")).toBe("x");
    now += 1;
    expect(await store.get("short")).toBeNull();
    expect(store.size).toBe(2);
    now += 365 * 86_400_000;
    expect(await store.get("forever")).toBe("y");
    expect(await store.get("zero")).toBe("z");
  });

  it("setting again replaces the TTL", async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    await store.set("k", "1", 100);
    now = 90;
    await store.set("k", "2", 100);
    now = 150;
    expect(await store.get("k")).toBe("2");
    await store.set("k", "3");
    now = 10_000;
    expect(await store.get("k")).toBe("3");
  });

  it("setIfAbsent sets only a missing or expired key, and says whether it did", async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    expect(await store.setIfAbsent("k", "first", 100)).toBe(true);
    expect(await store.setIfAbsent("k", "second", 100)).toBe(false);
    expect(await store.get("k")).toBe("first");
    now = 100;
    expect(await store.setIfAbsent("k", "third", 100)).toBe(true);
    expect(await store.get("k")).toBe("third");
    // Concurrent callers in one process: exactly one wins.
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent("race", String(i), 100)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it("keeps at most maxEntries, dropping expired entries first, then the least recently used", async () => {
    let now = 0;
    const store = new MemoryStore({ maxEntries: 3, now: () => now });
    await store.set("a", "1");
    await store.set("b", "2", 10);
    await store.set("c", "3");
    now = 20; // b has expired
    await store.set("d", "4");
    expect(store.size).toBe(3);
    expect(await store.get("a")).toBe("1"); // a is now the most recently used
    await store.set("e", "5"); // evicts c, the least recently used
    expect(store.size).toBe(3);
    expect(await store.get("c")).toBeNull();
    expect(await store.get("a")).toBe("1");
    expect(await store.get("d")).toBe("4");
    expect(await store.get("e")).toBe("5");
  });

  it("refuses bad sizes and TTLs", async () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(RangeError);
    await expect(new MemoryStore().set("k", "v", -1)).rejects.toThrow(RangeError);
    await expect(new MemoryStore().set("k", "v", Number.NaN)).rejects.toThrow(RangeError);
  });
});

describe.skipIf(!hasRedis)("RedisStore", () => {
  let server: LocalRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });

  it("stores under its prefix, with PX expiry", async () => {
    const store = new RedisStore({ redis: server.url, prefix: "digest-pin:test:" });
    try {
      expect(await store.get("a")).toBeNull();
      await store.set("a", "forever");
      await store.set("b", "short", 150);
      expect(await redis.get("digest-pin:test:a")).toBe("forever");
      expect(await redis.pttl("digest-pin:test:a")).toBe(-1);
      const ttl = await redis.pttl("digest-pin:test:b");
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(150);
      expect(await store.get("b")).toBe("short");
      await sleep(200);
      expect(await store.get("b")).toBeNull();
      await store.set("a", "again", 10_000);
      expect(await redis.pttl("digest-pin:test:a")).toBeGreaterThan(9000);
      await store.delete("a");
      expect(await redis.exists("digest-pin:test:a")).toBe(0);
      await expect(store.set("c", "v", -5)).rejects.toThrow(RangeError);
    } finally {
      await store.close();
    }
  });

  it("setIfAbsent is one SET NX: one of many concurrent callers on separate connections wins, with the TTL", async () => {
    const stores = Array.from({ length: 5 }, () => new RedisStore({ redis: server.url, prefix: "digest-pin:nx:" }));
    try {
      const wins = await Promise.all(stores.map((store, i) => store.setIfAbsent("k", String(i), 10_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await redis.get("digest-pin:nx:k")).toBe(String(wins.indexOf(true)));
      expect(await redis.pttl("digest-pin:nx:k")).toBeGreaterThan(9000);
      expect(await stores[0]?.setIfAbsent("k", "again")).toBe(false);
      expect(await stores[0]?.setIfAbsent("forever", "v")).toBe(true);
      expect(await redis.pttl("digest-pin:nx:forever")).toBe(-1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("shares a caller's connection without closing it, and keeps prefixes apart", async () => {
    const one = new RedisStore({ redis, prefix: "one:" });
    const two = new RedisStore({ redis, prefix: "two:" });
    await one.set("k", "1");
    await two.set("k", "2");
    expect(await one.get("k")).toBe("1");
    expect(await two.get("k")).toBe("2");
    await one.close();
    expect(await redis.ping()).toBe("PONG");
  });
});
