// When refreshes may be proposed: `schedule:` windows ("weekly on monday", "weekends", "before 6am on weekdays", or
// cron syntax) evaluated in a time zone (`timezone:`, IANA names, through Intl: no time-zone database of our own).
// A window is a set of days and a span of wall-clock time on those days, so daylight-saving changes need nothing
// special: the question is always "what is the local time at this instant". Pure.

/** One window: days of the week (0 = Sunday) and minutes since local midnight, `from` inclusive, `to` exclusive. */
interface DayWindow {
  kind: "days";
  days: ReadonlySet<number>;
  from: number;
  to: number;
}

/** A cron line's hours, days of the month, months and days of the week (the minute field must be `*`). */
interface CronWindow {
  kind: "cron";
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number> | null;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number> | null;
}

export type Window = DayWindow | CronWindow;

/** Windows, any of which allows a refresh. */
export interface Schedule {
  windows: Window[];
  /** The text as configured, for people. */
  text: string[];
}

export type ScheduleResult = { ok: true; schedule: Schedule } | { ok: false; error: string };

const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const ALL_DAYS = new Set([0, 1, 2, 3, 4, 5, 6]);
const DAY_MINUTES = 24 * 60;
const MAX_TEXT = 200;
const MAX_WINDOWS = 20;

/** `mon`, `monday`, `mondays` → 1. */
function dayOf(word: string): number | undefined {
  const w = word.replace(/s$/, "");
  const i = DAY_NAMES.findIndex((d) => d === w || d.slice(0, 3) === w);
  return i === -1 ? undefined : i;
}

/** `6am`, `6 am`, `6:30pm`, `18:00`, `12am` (midnight) → minutes since midnight. */
function timeOf(text: string): number | undefined {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(text);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  if (minute > 59) return undefined;
  if (m[3]) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (m[3] === "pm" ? 12 : 0);
  } else if (hour > 24 || (hour === 24 && minute > 0)) return undefined;
  return hour * 60 + minute;
}

const TIME = String.raw`\d{1,2}(?::\d{2})?\s*(?:am|pm)?`;
const TIME_RE = new RegExp(String.raw`\b(?:before (${TIME})|after (${TIME})|between (${TIME}) and (${TIME}))\b`);

/** One phrase in words: days (or all days) and a time span. */
function parsePhrase(phrase: string): Window | string {
  let rest = ` ${phrase} `;
  let from = 0;
  let to = DAY_MINUTES;
  const time = TIME_RE.exec(phrase);
  if (time) {
    const [whole, before, after, start, end] = time;
    const t = (s: string | undefined) => (s === undefined ? undefined : timeOf(s.trim()));
    if (before !== undefined) to = t(before) ?? -1;
    if (after !== undefined) from = t(after) ?? -1;
    if (start !== undefined) {
      from = t(start) ?? -1;
      to = t(end) ?? -1;
    }
    if (from < 0 || to < 0) return `"${phrase}" has a time digest-pin cannot read (use 6am, 6:30pm or 18:00)`;
    if (from >= to) return `"${phrase}" is an empty window (its start is not before its end)`;
    rest = rest.replace(whole, " ");
  }
  const words = rest
    .replace(/,/g, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && !["every", "on", "weekly", "and", "at", "any", "time", "day", "daily"].includes(w));
  const days = new Set<number>();
  if (words.some((w) => ["before", "after", "between"].includes(w))) {
    return `"${phrase}" has a time digest-pin cannot read (use 6am, 6:30pm or 18:00)`;
  }
  for (const word of words) {
    if (word === "weekend" || word === "weekends") [0, 6].forEach((d) => days.add(d));
    else if (word === "weekday" || word === "weekdays") [1, 2, 3, 4, 5].forEach((d) => days.add(d));
    else {
      const day = dayOf(word);
      if (day === undefined) return `"${phrase}" has "${word}", which is not a day, "weekends", "weekdays" or a time`;
      days.add(day);
    }
  }
  return { kind: "days", days: days.size > 0 ? days : ALL_DAYS, from, to };
}

/** One cron field: `*`, `5`, `1-5`, `*\/2`, `1,3,5`, `mon-fri`, `jan`. */
function cronField(text: string, min: number, max: number, names: readonly string[] = []): Set<number> | null {
  const out = new Set<number>();
  const value = (s: string): number | undefined => {
    const named = names.findIndex((n) => n.slice(0, 3) === s);
    if (named !== -1) return named + min;
    if (!/^\d+$/.test(s)) return undefined;
    const n = Number(s);
    return n >= min && n <= max + (names === DAY_NAMES ? 1 : 0) ? n : undefined;
  };
  for (const part of text.split(",")) {
    const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) return null;
    let lo = min;
    let hi = max;
    if (m[1] !== "*") {
      const [a, b] = (m[1] ?? "").split("-");
      const x = value(a ?? "");
      const y = b === undefined ? (m[2] === undefined ? x : max) : value(b);
      if (x === undefined || y === undefined || y < x) return null;
      lo = x;
      hi = y;
    }
    for (let n = lo; n <= hi; n += step) out.add(names === DAY_NAMES ? n % 7 : n);
  }
  return out;
}

function parseCron(text: string): Window | string {
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `"${text}" is not a cron line of 5 fields`;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (minute !== "*") return `"${text}": the minute field must be * (a schedule is a window of whole hours)`;
  const hours = cronField(hour, 0, 23);
  const daysOfMonth = cronField(dom, 1, 31);
  const months = cronField(month, 1, 12, MONTH_NAMES);
  const daysOfWeek = cronField(dow, 0, 6, DAY_NAMES);
  if (!hours || !daysOfMonth || !months || !daysOfWeek) return `"${text}" has a cron field digest-pin cannot read`;
  return {
    kind: "cron",
    hours,
    months,
    daysOfMonth: dom === "*" ? null : daysOfMonth,
    daysOfWeek: dow === "*" ? null : daysOfWeek,
  };
}

/**
 * A `schedule:` value: a phrase or cron line, or a list of them (any may allow a refresh).
 *
 * @example parseSchedule("weekly on monday") // { ok: true, schedule: { windows: [{ kind: "days", … }], … } }
 * @example parseSchedule(["after 10pm on weekdays", "weekends"])
 * @example parseSchedule("* 2-5 * * 1-5") // 02:00–05:59, Monday to Friday
 */
export function parseSchedule(value: string | readonly string[]): ScheduleResult {
  const texts = typeof value === "string" ? [value] : [...value];
  if (texts.length === 0) return { ok: false, error: "must name at least one window" };
  if (texts.length > MAX_WINDOWS) return { ok: false, error: `at most ${MAX_WINDOWS} windows` };
  const windows: Window[] = [];
  for (const raw of texts) {
    const text = raw.trim().toLowerCase().replace(/\s+/g, " ");
    if (text === "" || text.length > MAX_TEXT) return { ok: false, error: `a window must be 1 to ${MAX_TEXT} characters` };
    const window = /^[\d*,/-]+ /.test(text) && text.split(" ").length === 5 ? parseCron(text) : parsePhrase(text);
    if (typeof window === "string") return { ok: false, error: window };
    windows.push(window);
  }
  return { ok: true, schedule: { windows, text: texts } };
}

/** Whether `zone` is a time zone Intl knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

interface LocalTime {
  weekday: number;
  day: number;
  month: number;
  minutes: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at `at` in `zone`. */
export function localTime(at: Date, zone: string): LocalTime {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    weekday: DAY_NAMES.findIndex((d) => d.slice(0, 3) === String(parts.weekday).toLowerCase()),
    day: Number(parts.day),
    month: Number(parts.month),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function matches(window: Window, t: LocalTime): boolean {
  if (window.kind === "days") return window.days.has(t.weekday) && t.minutes >= window.from && t.minutes < window.to;
  if (!window.hours.has(Math.floor(t.minutes / 60)) || !window.months.has(t.month)) return false;
  const { daysOfMonth: dom, daysOfWeek: dow } = window;
  // Cron's rule: with both day fields restricted, either may match.
  if (dom && dow) return dom.has(t.day) || dow.has(t.weekday);
  return (dom?.has(t.day) ?? true) && (dow?.has(t.weekday) ?? true);
}

/**
 * Whether `at` falls in one of the schedule's windows, on the wall clock of `zone`.
 *
 * @example inWindow(schedule, new Date("2024-03-31T01:30:00Z"), "Europe/Berlin") // 03:30 CEST on a Sunday
 */
export function inWindow(schedule: Schedule, at: Date, zone: string): boolean {
  const t = localTime(at, zone);
  return schedule.windows.some((w) => matches(w, t));
}
