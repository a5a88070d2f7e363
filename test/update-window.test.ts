import { describe, expect, it } from "vitest";
import { inWindow, isTimeZone, localTime, parseSchedule, type Schedule } from "../src/update-window.js";

function schedule(value: string | string[]): Schedule {
  const parsed = parseSchedule(value);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}

function error(value: string | string[]): string {
  const parsed = parseSchedule(value);
  if (parsed.ok) throw new Error(`expected an error for ${JSON.stringify(value)}`);
  return parsed.error;
}

const at = (iso: string) => new Date(iso);

describe("parseSchedule", () => {
  it.each([
    "weekly on monday",
    "on monday",
    "every monday",
    "Mondays",
    "on monday and thursday",
    "on mon, wed, fri",
    "weekends",
    "every weekend",
    "weekdays",
    "daily",
    "at any time",
    "before 6am",
    "after 10pm",
    "between 9am and 5pm",
    "before 6:30am on weekdays",
    "after 18:00 on friday",
    "* 2-5 * * 1-5",
    "* */2 * * *",
    "* 3 1,15 * *",
    "* * * jan-mar sat,sun",
  ])("reads %s", (text) => {
    expect(parseSchedule(text).ok).toBe(true);
  });

  it.each([
    ["", /1 to 200 characters/],
    ["on blursday", /"blursday", which is not a day/],
    ["before noon", /time digest-pin cannot read/],
    ["before 13pm", /time digest-pin cannot read/],
    ["after 6pm before 6pm", /time digest-pin cannot read/],
    ["between 5pm and 9am", /empty window/],
    ["0 3 * * 1", /minute field must be \*/],
    ["* 25 * * *", /cron field/],
    ["* * 0 * *", /cron field/],
    ["* * * * 8", /cron field/],
    ["* 5-2 * * *", /cron field/],
    ["* */0 * * *", /cron field/],
  ])("rejects %j with a reason", (text, reason) => {
    expect(error(text)).toMatch(reason);
  });

  it("rejects an empty list and too many windows", () => {
    expect(error([])).toMatch(/at least one/);
    expect(error(Array(21).fill("weekends"))).toMatch(/at most 20/);
  });
});

describe("inWindow", () => {
  it("weekly on monday is the whole local Monday", () => {
    const s = schedule("weekly on monday");
    expect(inWindow(s, at("2024-06-10T00:00:00Z"), "UTC")).toBe(true); // Monday 00:00
    expect(inWindow(s, at("2024-06-10T23:59:00Z"), "UTC")).toBe(true);
    expect(inWindow(s, at("2024-06-11T00:00:00Z"), "UTC")).toBe(false);
    expect(inWindow(s, at("2024-06-09T23:59:00Z"), "UTC")).toBe(false);
    // 22:30 UTC on Sunday is already Monday in Berlin (UTC+2 in summer), and still Sunday in New York.
    expect(inWindow(s, at("2024-06-09T22:30:00Z"), "Europe/Berlin")).toBe(true);
    expect(inWindow(s, at("2024-06-10T02:30:00Z"), "America/New_York")).toBe(false);
  });

  it("weekends and weekdays split the week", () => {
    const weekends = schedule("weekends");
    const weekdays = schedule("weekdays");
    for (let day = 0; day < 7; day++) {
      const when = new Date(Date.UTC(2024, 5, 9 + day, 12)); // 9 June 2024 is a Sunday
      expect(inWindow(weekends, when, "UTC")).toBe(day === 0 || day === 6);
      expect(inWindow(weekdays, when, "UTC")).toBe(day !== 0 && day !== 6);
    }
  });

  it("any of several windows opens it", () => {
    const s = schedule(["after 10pm on weekdays", "weekends"]);
    expect(inWindow(s, at("2024-06-12T22:30:00Z"), "UTC")).toBe(true); // Wednesday night
    expect(inWindow(s, at("2024-06-12T12:00:00Z"), "UTC")).toBe(false);
    expect(inWindow(s, at("2024-06-15T12:00:00Z"), "UTC")).toBe(true); // Saturday
  });

  describe("across daylight-saving changes", () => {
    // Berlin springs forward on 31 March 2024: 02:00 CET is 03:00 CEST (01:00 UTC).
    it("'before 3am' in Berlin ends at the jump, an hour early in UTC terms", () => {
      const s = schedule("before 3am");
      expect(inWindow(s, at("2024-03-31T00:59:59Z"), "Europe/Berlin")).toBe(true); // 01:59:59 CET
      expect(inWindow(s, at("2024-03-31T01:00:00Z"), "Europe/Berlin")).toBe(false); // 03:00 CEST
      expect(localTime(at("2024-03-31T01:00:00Z"), "Europe/Berlin").minutes).toBe(3 * 60);
      // The day before, 01:59 UTC is still 02:59 CET: in.
      expect(inWindow(s, at("2024-03-30T01:59:00Z"), "Europe/Berlin")).toBe(true);
    });

    it("'between 2am and 3am' in Berlin never opens on the night the hour does not exist", () => {
      const s = schedule("between 2am and 3am");
      for (let minute = 0; minute < 24 * 60; minute += 15) {
        const when = new Date(Date.parse("2024-03-30T23:00:00Z") + minute * 60_000); // the whole of 31 March, Berlin
        expect(inWindow(s, when, "Europe/Berlin"), when.toISOString()).toBe(false);
      }
      expect(inWindow(s, at("2024-04-01T00:30:00Z"), "Europe/Berlin")).toBe(true); // 02:30 CEST the next night
    });

    // New York falls back on 3 November 2024: 01:00–02:00 EDT, then 01:00–02:00 EST again.
    it("'before 2am' in New York holds for both 1 o'clocks of the night that repeats one", () => {
      const s = schedule("before 2am");
      expect(inWindow(s, at("2024-11-03T05:30:00Z"), "America/New_York")).toBe(true); // 01:30 EDT
      expect(inWindow(s, at("2024-11-03T06:30:00Z"), "America/New_York")).toBe(true); // 01:30 EST
      expect(inWindow(s, at("2024-11-03T07:00:00Z"), "America/New_York")).toBe(false); // 02:00 EST
    });

    it("a cron window's hours follow the local clock across the change", () => {
      const s = schedule("* 9 * * *");
      expect(inWindow(s, at("2024-03-30T08:30:00Z"), "Europe/Berlin")).toBe(true); // 09:30 CET
      expect(inWindow(s, at("2024-03-31T07:30:00Z"), "Europe/Berlin")).toBe(true); // 09:30 CEST
      expect(inWindow(s, at("2024-03-31T08:30:00Z"), "Europe/Berlin")).toBe(false); // 10:30 CEST
    });
  });

  it("reads cron's day fields as cron does (either day field when both are set)", () => {
    const s = schedule("* * 13 * fri");
    expect(inWindow(s, at("2024-09-13T12:00:00Z"), "UTC")).toBe(true); // Friday the 13th
    expect(inWindow(s, at("2024-06-13T12:00:00Z"), "UTC")).toBe(true); // a Thursday the 13th
    expect(inWindow(s, at("2024-06-14T12:00:00Z"), "UTC")).toBe(true); // a Friday
    expect(inWindow(s, at("2024-06-12T12:00:00Z"), "UTC")).toBe(false);
    expect(inWindow(schedule("* * * * 7"), at("2024-06-09T12:00:00Z"), "UTC")).toBe(true); // 7 is Sunday too
  });
});

describe("isTimeZone", () => {
  it("knows IANA names and refuses others", () => {
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});
