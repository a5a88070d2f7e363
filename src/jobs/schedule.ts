// The periodic drift check's timer: in one process, or once per interval across all replicas with Redis.
//
// Both modes cut time into slots of one interval, aligned to the Unix epoch (with 24h, each UTC day is a slot; with 6h,
// 00:00, 06:00, 12:00 and 18:00 UTC), so checks keep a steady time however often the process restarts.
//
// Embedded: a timer (unref'd, so it never keeps the process alive) runs at the start of every slot. One process keeps
// no record across restarts, so the slot it starts in counts as missed: it runs STARTUP_CHECK_DELAY_MS after start,
// unless the next slot starts sooner (then that run covers it). The delay lets a deployment settle and keeps a crash
// loop from running a check on every start. A slot that comes while the previous run is still going is skipped.
//
// Redis: every replica looks often (a quarter interval, at most every 30 s) and tries
// `SET <name>:slot:<n> NX PX 2×interval`; the one that sets it runs, the others see it taken. One key, one command, no leader election: exactly one run per slot
// whatever the number of replicas, and no run is lost when replicas come and go, because any live replica claims the
// next slot. A fresh deployment runs in the slot current at startup (if nobody has yet); a restart within a slot
// does not run again. A cluster-wide run lock (`<name>:running`) keeps a run that outlasts its interval from
// overlapping the next one: that slot is skipped, as the embedded timer skips a tick.
// Considered: BullMQ's upsertJobScheduler. It also works, but needs its own queue, worker and job bookkeeping for
// what one SET NX does.

import { randomBytes } from "node:crypto";
import { RedisLock } from "./lock.js";
import { closeRedis, connectRedis } from "./redis.js";

export interface ScheduleOptions {
  /** Namespace of the Redis keys, e.g. "digest-pin:drift". */
  name: string;
  /** 0 disables the schedule. */
  intervalMs: number;
  run: () => Promise<void> | void;
  /** Share the schedule between replicas through this Redis. */
  redisUrl?: string;
  /** A run threw, or Redis failed. Default: console.error. */
  onError?: (error: unknown) => void;
}

export interface Schedule {
  /** Stop the timer and wait for a run in progress; closes the Redis connection. */
  stop(): Promise<void>;
}

/** setTimeout's limit; longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_POLL_MS = 30_000;

export function startSchedule(options: ScheduleOptions): Schedule {
  const { intervalMs } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be ≥ 0, got ${intervalMs}`);
  if (intervalMs === 0) return { stop: async () => undefined };
  return options.redisUrl ? redisSchedule(options, options.redisUrl) : embeddedSchedule(options);
}

function reporter(options: ScheduleOptions): (error: unknown) => void {
  return (error) => {
    try {
      if (options.onError) options.onError(error);
      else console.error(`digest-pin schedule ${options.name}:`, error instanceof Error ? error.message : error);
    } catch {
      // Nobody left to tell.
    }
  };
}

/** How long after start one process runs the check of the slot it started in (see the top of this file). */
export const STARTUP_CHECK_DELAY_MS = 5 * 60_000;

function embeddedSchedule(options: ScheduleOptions): Schedule {
  const { intervalMs } = options;
  const report = reporter(options);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const slotOf = (t: number) => Math.floor(t / intervalMs);
  const nextSlotStart = (t: number) => (slotOf(t) + 1) * intervalMs;
  const started = Date.now();
  let lastSlot = -Infinity;
  let due = Math.min(started + Math.min(intervalMs, STARTUP_CHECK_DELAY_MS), nextSlotStart(started));

  const arm = () => {
    if (stopped) return;
    // Chained timeouts rather than setInterval: intervals beyond setTimeout's 24.8-day limit work too.
    timer = setTimeout(tick, Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS));
    timer.unref();
  };
  const tick = () => {
    const now = Date.now();
    if (now >= due) {
      const slot = slotOf(now);
      due = nextSlotStart(now);
      // Once per slot, even if the clock is set back.
      if (slot > lastSlot && !running) {
        lastSlot = slot;
        running = Promise.resolve()
          .then(options.run)
          .catch(report)
          .finally(() => (running = undefined));
      }
    }
    arm();
  };
  arm();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

function redisSchedule(options: ScheduleOptions, redisUrl: string): Schedule {
  const { intervalMs, name } = options;
  const report = reporter(options);
  const redis = connectRedis(redisUrl, { name: `${name}:schedule`, onError: report });
  const replica = randomBytes(8).toString("hex");
  const pollMs = Math.min(Math.max(Math.floor(intervalMs / 4), 10), MAX_POLL_MS);
  let lastSlot = -1;
  let checking = false;
  let running: Promise<void> | undefined;
  let stopped = false;

  const check = async () => {
    const slot = Math.floor(Date.now() / intervalMs);
    if (slot === lastSlot || running) return;
    const claimed = await redis.set(`${name}:slot:${slot}`, replica, "PX", 2 * intervalMs, "NX");
    lastSlot = slot;
    if (claimed !== "OK" || stopped) return;
    const lock = await RedisLock.tryAcquire(redis, `${name}:running`, Math.min(Math.max(intervalMs, 10_000), 60_000), {
      onLost: () => report(new Error(`schedule ${name}: lost the run lock while running`)),
    });
    if (!lock) {
      report(new Error(`schedule ${name}: the previous run is still going; skipping this interval`));
      return;
    }
    running = (async () => {
      try {
        await options.run();
      } catch (error) {
        report(error);
      } finally {
        await lock.release().catch(report);
        running = undefined;
      }
    })();
  };

  const timer = setInterval(() => {
    if (checking || stopped) return;
    checking = true;
    check()
      .catch(report)
      .finally(() => (checking = false));
  }, pollMs);
  timer.unref();
  // Look at once too: a slot nobody has claimed yet runs now rather than a poll later (the claims are the record
  // across restarts that one process lacks, so no startup delay is needed here).
  checking = true;
  check()
    .catch(report)
    .finally(() => (checking = false));

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (checking) await new Promise((resolve) => setTimeout(resolve, 5));
      await running;
      await closeRedis(redis);
    },
  };
}

export class IntervalError extends Error {
  override readonly name = "IntervalError";
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`DIGEST_PIN_INTERVAL=${JSON.stringify(input)}: ${reason}`);
  }
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DEFAULT_INTERVAL = "24h";
const MAX_INTERVAL_MS = 365 * UNIT_MS.d;

/**
 * DIGEST_PIN_INTERVAL in milliseconds: seconds as a plain number ("3600"), or a number with a unit: s, m, h, d
 * ("90s", "30m", "6h", "1.5d"). Absent or blank: 24h. "0" (in any unit) disables the schedule and gives 0.
 * Anything else, below one second or above 365 days throws an IntervalError.
 */
export function parseInterval(text: string | undefined): number {
  const input = text?.trim() || DEFAULT_INTERVAL;
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*([smhd])?$/i.exec(input);
  if (!match) {
    throw new IntervalError(
      text ?? "",
      "expected seconds (3600) or a number with a unit s, m, h or d (90s, 30m, 6h, 1d); 0 disables the schedule",
    );
  }
  const amount = Number(match[1]);
  const unit = (match[2]?.toLowerCase() ?? "s") as keyof typeof UNIT_MS;
  const ms = Math.round(amount * UNIT_MS[unit]);
  if (ms === 0 && amount === 0) return 0;
  if (ms < 1000) throw new IntervalError(text ?? "", "the interval must be at least 1s (or 0 to disable)");
  if (ms > MAX_INTERVAL_MS) throw new IntervalError(text ?? "", "the interval must be at most 365d");
  return ms;
}
