import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLock } from "../../src/jobs/lock.js";
import { checkRedis, startRedis, type LocalRedis } from "../helpers/redis-server.js";

const hasRedis = checkRedis("the Redis lock tests");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasRedis)("RedisLock", () => {
  let server: LocalRedis;
  let redis: Redis;
  let n = 0;
  const key = () => `lock-test:${++n}`;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });

  it("is exclusive until released, and then free", async () => {
    const k = key();
    const first = await RedisLock.tryAcquire(redis, k, 5000);
    expect(first).not.toBeNull();
    expect(first!.held).toBe(true);
    expect(await RedisLock.tryAcquire(redis, k, 5000)).toBeNull();
    expect(await first!.release()).toBe(true);
    expect(first!.held).toBe(false);
    expect(await redis.exists(k)).toBe(0);
    const second = await RedisLock.tryAcquire(redis, k, 5000);
    expect(second).not.toBeNull();
    await second!.release();
  });

  it("only one of many concurrent contenders wins", async () => {
    const k = key();
    const locks = await Promise.all(Array.from({ length: 20 }, () => RedisLock.tryAcquire(redis, k, 5000)));
    const winners = locks.filter((l) => l !== null);
    expect(winners).toHaveLength(1);
    await winners[0]!.release();
  });

  it("expires after its TTL when not renewed", async () => {
    const k = key();
    const lock = await RedisLock.tryAcquire(redis, k, 150, { autoRenew: false });
    expect(lock).not.toBeNull();
    expect(await RedisLock.tryAcquire(redis, k, 150, { autoRenew: false })).toBeNull();
    await sleep(250);
    expect(lock!.held).toBe(false);
    const next = await RedisLock.tryAcquire(redis, k, 5000);
    expect(next).not.toBeNull();
    // The old owner cannot release (or renew) what is now someone else's.
    expect(await lock!.release()).toBe(false);
    expect(await redis.get(k)).toBe(next!.token);
    await next!.release();
  });

  it("is renewed while held, past its TTL", async () => {
    const k = key();
    const lock = await RedisLock.tryAcquire(redis, k, 150);
    await sleep(500);
    expect(lock!.held).toBe(true);
    expect(await RedisLock.tryAcquire(redis, k, 150)).toBeNull();
    expect(await redis.pttl(k)).toBeGreaterThan(0);
    await lock!.release();
    expect(await redis.exists(k)).toBe(0);
  });

  it("is released only by its owner: another token neither releases nor renews it", async () => {
    const k = key();
    const lock = await RedisLock.tryAcquire(redis, k, 5000, { autoRenew: false });
    await redis.set(k, "someone-else", "PX", 5000);
    const lost: string[] = [];
    expect(await lock!.release()).toBe(false);
    expect(await redis.get(k)).toBe("someone-else");

    await redis.del(k);
    const again = await RedisLock.tryAcquire(redis, k, 5000, { autoRenew: false, onLost: (l) => lost.push(l.key) });
    await redis.set(k, "someone-else", "PX", 5000);
    expect(await again!.renew()).toBe(false);
    expect(again!.held).toBe(false);
    expect(lost).toEqual([k]);
    expect(await redis.get(k)).toBe("someone-else");
  });

  it("reports a lock taken over while renewing", async () => {
    const k = key();
    const lost: string[] = [];
    const lock = await RedisLock.tryAcquire(redis, k, 150, { onLost: (l) => lost.push(l.key) });
    await redis.set(k, "intruder");
    await sleep(150);
    expect(lost).toEqual([k]);
    expect(lock!.held).toBe(false);
    expect(await redis.get(k)).toBe("intruder");
  });

  it("acquire() waits for the lock to come free, up to a timeout", async () => {
    const k = key();
    const first = await RedisLock.tryAcquire(redis, k, 5000);
    setTimeout(() => void first!.release(), 100);
    const waited = await RedisLock.acquire(redis, k, 5000, { timeoutMs: 2000, retryMs: 20 });
    expect(waited).not.toBeNull();
    expect(await RedisLock.acquire(redis, k, 5000, { timeoutMs: 100, retryMs: 20 })).toBeNull();
    await waited!.release();
  });
});
