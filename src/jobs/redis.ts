// Redis connection helpers shared by the queue, the schedule and the store.

import { Redis, type RedisOptions } from "ioredis";

export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

/** The URL with any password (and user name) replaced, fit for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    if (parsed.username) parsed.username = "***";
    return parsed.toString();
  } catch {
    return "<unparsable redis URL>";
  }
}

/** Check that a REDIS_URL is a redis:// or rediss:// URL; the error message never carries the password. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError("REDIS_URL is not a URL; expected redis://[user:password@]host[:port][/db] or rediss://…");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new RedisUrlError(`REDIS_URL must start with redis:// or rediss://, got ${redactRedisUrl(url)}`);
  }
  return url;
}

export interface ConnectOptions {
  /** Connection name shown by CLIENT LIST. */
  name?: string;
  /** Where connection errors go (ioredis prints unhandled ones to the console otherwise). */
  onError?: (error: Error) => void;
  /** Extra ioredis options. */
  redis?: RedisOptions;
}

/**
 * A command connection: commands queue while (re)connecting and fail after a few retries, so a caller such as a
 * webhook handler gets an error instead of hanging when Redis is down.
 */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  checkRedisUrl(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: 3,
    connectionName: options.name,
    ...options.redis,
  });
  redis.on("error", (error: Error) => options.onError?.(error));
  return redis;
}

/** Connection options for a BullMQ Queue (a producer: commands fail after some retries rather than hang). */
export function queueConnection(url: string): { url: string } {
  checkRedisUrl(url);
  return { url };
}

/** Connection options for a BullMQ Worker, which needs `maxRetriesPerRequest: null` on its blocking connections. */
export function workerConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  checkRedisUrl(url);
  return { url, maxRetriesPerRequest: null };
}

/** Close gracefully (QUIT), or drop the connection if that fails. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
