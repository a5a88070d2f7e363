import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { IntervalError, parseInterval, startSchedule, STARTUP_CHECK_DELAY_MS } from "../../src/jobs/schedule.js";
import { checkRedis, startRedis, type LocalRedis } from "../helpers/redis-server.js";

const hasRedis = checkRedis("the Redis schedule tests");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("parseInterval", () => {
  it.each([
    [undefined, 86_400_000],
    ["", 86_400_000],
    ["  ", 86_400_000],
    ["3600", 3_600_000],
    ["1", 1000],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["6h", 21_600_000],
    ["1d", 86_400_000],
    ["1.5h", 5_400_000],
    [".5m", 30_000],
    [" 2H ", 7_200_000],
    ["10 m", 600_000],
    ["0", 0],
    ["0s", 0],
    ["0.0d", 0],
    ["365d", 365 * 86_400_000],
  ])("%j → %d ms", (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  it.each([
    ["abc", /expected seconds/],
    ["-5", /expected seconds/],
    ["5x", /expected seconds/],
    ["1e3", /expected seconds/],
    ["5mins", /expected seconds/],
    ["1h30m", /expected seconds/],
    ["0.5", /at least 1s/],
    ["0.00001d", /at least 1s/],
    ["366d", /at most 365d/],
    ["99999999999999999999999", /at most 365d/],
  ])("%j is refused", (text, message) => {
    let error: unknown;
    try {
      parseInterval(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IntervalError);
    expect((error as IntervalError).input).toBe(text);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`DIGEST_PIN_INTERVAL=${JSON.stringify(text)}`);
  });
});

describe("startSchedule, embedded", () => {
  it("runs every interval and never overlaps itself", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const schedule = startSchedule({
      name: "test",
      intervalMs: 40,
      run: async () => {
        runs++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(100);
        running--;
      },
    });
    await sleep(500);
    await schedule.stop();
    expect(maxRunning).toBe(1);
    // 100 ms runs on a 40 ms tick: a run every third tick or so, never two at once.
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(5);
    expect(running).toBe(0);
    const after = runs;
    await sleep(100);
    expect(runs).toBe(after);
  });

  it("0 disables it", async () => {
    let runs = 0;
    const off = startSchedule({ name: "t", intervalMs: 0, run: () => void runs++ });
    await sleep(50);
    await off.stop();
    expect(runs).toBe(0);
  });

  it("reports a run that throws and keeps going", async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const schedule = startSchedule({
      name: "t",
      intervalMs: 30,
      run: () => {
        runs++;
        throw new Error("boom");
      },
      onError: (e) => errors.push(e),
    });
    await sleep(200);
    await schedule.stop();
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(errors).toHaveLength(runs);
  });
});

describe("startSchedule, embedded: when checks run (fake clock)", () => {
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Run a schedule from `startIso` for `ms` of fake time; the ISO times of its runs. */
  async function session(startIso: string | null, intervalMs: number, ms: number, runs: string[]): Promise<void> {
    if (startIso) vi.setSystemTime(new Date(startIso));
    const schedule = startSchedule({ name: "t", intervalMs, run: () => void runs.push(new Date().toISOString()) });
    await vi.advanceTimersByTimeAsync(ms);
    await schedule.stop();
  }

  it("runs 5 minutes after start, then at every multiple of the interval since the epoch (24h: 00:00 UTC)", async () => {
    vi.useFakeTimers();
    expect(STARTUP_CHECK_DELAY_MS).toBe(5 * MIN);
    const runs: string[] = [];
    await session("2026-03-10T13:00:00.000Z", DAY, 3 * DAY, runs);
    expect(runs).toEqual([
      "2026-03-10T13:05:00.000Z",
      "2026-03-11T00:00:00.000Z",
      "2026-03-12T00:00:00.000Z",
      "2026-03-13T00:00:00.000Z",
    ]);
  });

  it("runs nothing before the startup delay", async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    await session("2026-03-10T13:00:00.000Z", DAY, 5 * MIN - 1, runs);
    expect(runs).toEqual([]);
  });

  it("keeps a steady time with a process restarted more often than the interval", async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    // A 6h interval, and a process that lives 4 hours at a time, restarted at once: it used to wait a whole interval
    // after each start, so it never ran at all.
    vi.setSystemTime(new Date("2026-03-10T01:00:00.000Z"));
    for (let i = 0; i < 6; i++) await session(null, 6 * HOUR, 4 * HOUR, runs);
    expect(runs).toEqual([
      "2026-03-10T01:05:00.000Z",
      "2026-03-10T05:05:00.000Z",
      "2026-03-10T06:00:00.000Z",
      "2026-03-10T09:05:00.000Z",
      "2026-03-10T12:00:00.000Z",
      "2026-03-10T13:05:00.000Z",
      "2026-03-10T17:05:00.000Z",
      "2026-03-10T18:00:00.000Z",
      "2026-03-10T21:05:00.000Z",
      "2026-03-11T00:00:00.000Z",
    ]);
  });

  it("runs at the next multiple when that comes before the startup delay, once per slot", async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    await session("2026-03-10T00:00:30.000Z", 2 * MIN, 7 * MIN, runs);
    expect(runs).toEqual(["2026-03-10T00:02:00.000Z", "2026-03-10T00:04:00.000Z", "2026-03-10T00:06:00.000Z"]);
  });

  it("handles intervals beyond setTimeout's 24.8-day limit", async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    // 40 days since the epoch: slots start at multiples of 40 × 86,400,000 ms.
    await session("2026-03-10T00:00:00.000Z", 40 * DAY, 60 * DAY, runs);
    const slot = 40 * DAY;
    const next = new Date((Math.floor(Date.parse("2026-03-10T00:00:00.000Z") / slot) + 1) * slot).toISOString();
    expect(runs).toEqual(["2026-03-10T00:05:00.000Z", next]);
  });
});

describe.skipIf(!hasRedis)("startSchedule on Redis", () => {
  let server: LocalRedis;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("two replicas run exactly once per interval between them", async () => {
    const intervalMs = 500;
    const runs: { replica: string; slot: number }[] = [];
    const errors: unknown[] = [];
    const start = (replica: string) =>
      startSchedule({
        name: "test:drift",
        intervalMs,
        redisUrl: server.url,
        run: () => void runs.push({ replica, slot: Math.floor(Date.now() / intervalMs) }),
        onError: (e) => errors.push(e),
      });
    const schedules = [start("a"), start("b")];
    // Finish mid-slot, so that no slot is cut in two by the end of the test.
    await sleep(1750 + intervalMs / 2 - (Date.now() % intervalMs));
    await Promise.all(schedules.map((s) => s.stop()));

    expect(errors).toEqual([]);
    const slots = runs.map((r) => r.slot);
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.length).toBeGreaterThanOrEqual(4);
    // No interval was missed: consecutive slots from the first to the last.
    const first = Math.min(...slots);
    expect([...slots].sort((a, b) => a - b)).toEqual(slots.map((_, i) => first + i));
  });

  it("skips an interval while the previous run is still going on another replica", async () => {
    const intervalMs = 200;
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const errors: string[] = [];
    const start = () =>
      startSchedule({
        name: "test:slow",
        intervalMs,
        redisUrl: server.url,
        run: async () => {
          runs++;
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(450);
          running--;
        },
        onError: (e) => errors.push((e as Error).message),
      });
    const schedules = [start(), start()];
    await sleep(1200);
    await Promise.all(schedules.map((s) => s.stop()));
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(errors.every((m) => /still going/.test(m))).toBe(true);
  });
});
