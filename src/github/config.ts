// The repository config, `.github/digest-pin.yml`: parsed and validated with messages a person can act on. It is
// repository content, so it is bounded: its size before it is parsed, and the count, length and syntax of its globs,
// which are matched in linear time (src/github/glob.ts).

import { isMap, isScalar, parseDocument, YAMLParseError } from "yaml";
import { z } from "zod";
import type { FoundReference } from "../dockerfile/types.js";
import { imageName } from "../reference.js";
import { compileGlob, GLOB_LIMITS, GlobError, globMatcher, type StepCounter } from "./glob.js";
import { parsePlatform } from "../registry/platform.js";
import { isTimeZone, parseSchedule, type Schedule } from "../update-window.js";

export const CONFIG_PATH = ".github/digest-pin.yml";
/** A larger config is refused before it is parsed: the documented keys fit in a few hundred bytes. */
export const MAX_CONFIG_BYTES = 64 * 1024;

const DURATION_RE = /^(\d+)\s*(s|m|h|d|w)?$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `3d`, `12h`, `90m`, `0`, or a number of seconds → milliseconds; null when malformed. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
  const match = DURATION_RE.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? "s"] ?? 1) * 1000;
}

const DURATION_MESSAGE = "must be a duration such as 0, 12h, 3d or 1w (a bare number means seconds)";
const AUTOMERGE_MESSAGE = 'must be "pins", "updates", "all" or false';

const stringList = z.array(z.string().min(1, "must not be empty"));

/** A list of globs: bounded in count and length, and each one a pattern the matcher reads. */
const globList = (normalize: (pattern: string) => string) =>
  z
    .array(
      z
        .string()
        .min(1, "must not be empty")
        .max(GLOB_LIMITS.length, `must be at most ${GLOB_LIMITS.length} characters`)
        .superRefine((pattern, context) => {
          try {
            compileGlob(normalize(pattern));
          } catch (error) {
            if (!(error instanceof GlobError)) throw error;
            context.addIssue({ code: z.ZodIssueCode.custom, message: error.message });
          }
        }),
    )
    .max(GLOB_LIMITS.patterns, `must list at most ${GLOB_LIMITS.patterns} patterns`);
/** `_extends: <repository>` or `<repository>:<path>.yml` (Probot's convention), in the same organization. */
const EXTENDS_RE = /^(?:([a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})\/)?([-_.\w]+)(?::([-_./\w]+\.ya?ml))?$/i;

const scheduleValue = z
  .union([z.string(), z.array(z.string())], { errorMap: () => ({ message: "must be a window or a list of windows" }) })
  .superRefine((value, ctx) => {
    const parsed = parseSchedule(value);
    if (!parsed.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: parsed.error });
  });

const schema = z
  .object({
    enabled: z.boolean().default(true),
    pinUnpinned: z.boolean().default(true),
    ignorePaths: globList((p) => p).default([]),
    ignoreImages: globList((p) => normalizeImagePattern(p)).default([]),
    labels: stringList.default(["dependencies", "docker"]),
    reviewers: stringList.default([]),
    assignees: stringList.default([]),
    minimumAge: z
      .union([z.number(), z.string()], { errorMap: () => ({ message: DURATION_MESSAGE }) })
      .default(0)
      .refine((v) => parseDuration(v) !== null, { message: DURATION_MESSAGE }),
    commitMessagePrefix: z
      .string()
      .max(50, "must be at most 50 characters")
      .refine((v) => !/[\r\n]/.test(v), { message: "must be one line" })
      .default(""),
    platforms: z
      .array(z.string().refine((v) => parsePlatform(v) !== null, { message: "must be a platform such as linux/amd64 or linux/arm64/v8" }))
      .default([]),
    schedule: scheduleValue.optional(),
    timezone: z
      .string()
      .refine(isTimeZone, { message: "must be a time zone name such as UTC or Europe/Berlin" })
      .default("UTC"),
    automerge: z
      .union([z.enum(["pins", "updates", "all"]), z.literal(false)], { errorMap: () => ({ message: AUTOMERGE_MESSAGE }) })
      .default(false),
    _extends: z
      .string()
      .refine((v) => EXTENDS_RE.test(v), { message: "must name a repository, optionally with :path/to/file.yml" })
      .optional(),
  })
  .strict();

/** What `automerge:` allows: pull requests that only pin, that only update pins, or any. */
export type AutomergeSetting = false | "pins" | "updates" | "all";

export interface RepoConfig {
  enabled: boolean;
  pinUnpinned: boolean;
  ignorePaths: string[];
  ignoreImages: string[];
  labels: string[];
  reviewers: string[];
  assignees: string[];
  /** Milliseconds. */
  minimumAgeMs: number;
  /** Put before titles and commit messages (`chore(deps):`), or "". */
  commitMessagePrefix: string;
  /** The platforms the repository builds for (`os/arch[/variant]`), or none: every platform counts. */
  platforms: string[];
  /** When refreshes may be proposed (pins go at once), or null: at any time. */
  schedule: Schedule | null;
  /** The time zone the schedule is read in. */
  timezone: string;
  automerge: AutomergeSetting;
}

/** The config as a file would say it, every key filled in: what the pull request shows as the effective config. */
export type EffectiveConfig = Omit<z.output<typeof schema>, "_extends">;

export type ConfigResult =
  | { ok: true; config: RepoConfig; effective: EffectiveConfig }
  | { ok: false; error: string };

export const DEFAULT_CONFIG: RepoConfig = {
  enabled: true,
  pinUnpinned: true,
  ignorePaths: [],
  ignoreImages: [],
  labels: ["dependencies", "docker"],
  reviewers: [],
  assignees: [],
  minimumAgeMs: 0,
  commitMessagePrefix: "",
  platforms: [],
  schedule: null,
  timezone: "UTC",
  automerge: false,
};

/** One file of a layered config: where it is (for messages) and its text, or null when it does not exist. */
export interface ConfigLayer {
  /** `.github/digest-pin.yml`, or `acme/.github: .github/digest-pin.yml` for another repository's. */
  name: string;
  text: string | null;
  /** The file's size when GitHub said it without sending the text (a file over MAX_CONFIG_BYTES is not fetched). */
  byteSize?: number;
}

type Raw = Record<string, unknown>;

/** A layer's YAML as a mapping (null: no file or an empty one), or the message saying why it is not one. */
function readYaml(layer: ConfigLayer): { ok: true; raw: Raw | null } | { ok: false; error: string } {
  if (layer.text === null) return { ok: true, raw: null };
  const size = Math.max(layer.byteSize ?? 0, Buffer.byteLength(layer.text));
  if (size > MAX_CONFIG_BYTES) {
    return {
      ok: false,
      error: `${layer.name} is ${formatSize(size)}, over the ${formatSize(MAX_CONFIG_BYTES)} limit: it was not read`,
    };
  }
  let raw: unknown;
  try {
    raw = yamlData(layer.text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : "";
    return { ok: false, error: `${layer.name} is not valid YAML${where}: ${(error as Error).message.split("\n")[0]}` };
  }
  if (raw === null || raw === undefined) return { ok: true, raw: null };
  const checked = schema.partial().safeParse(raw);
  if (!checked.success) return { ok: false, error: `${layer.name} is invalid: ${problems(checked.error)}` };
  return { ok: true, raw: raw as Raw };
}

function problems(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join(".");
      if (issue.code === "unrecognized_keys") return `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
      return key ? `"${key}": ${issue.message}` : issue.message;
    })
    .join("; ");
}

/**
 * The `_extends` of a config file's text, when it has a valid one: `{ repo, path }` (path defaults to CONFIG_PATH).
 * An `owner/` part must be `owner` itself: a repository's config never reads another organization's.
 *
 * @example extendsOf("_extends: settings\nlabels: []", "acme") // { repo: "settings", path: ".github/digest-pin.yml" }
 */
export function extendsOf(text: string | null, owner: string): { repo: string; path: string } | { error: string } | null {
  const read = readYaml({ name: CONFIG_PATH, text });
  if (!read.ok || !read.raw || typeof read.raw._extends !== "string") return null;
  const match = EXTENDS_RE.exec(read.raw._extends);
  if (!match) return null;
  if (match[1] && match[1].toLowerCase() !== owner.toLowerCase()) {
    return { error: `${CONFIG_PATH}: "_extends" must name a repository of ${owner}, not of ${match[1]}` };
  }
  return { repo: match[2] ?? "", path: match[3] ?? CONFIG_PATH };
}

/**
 * The effective config of layered files, later layers' keys replacing earlier ones' (the organization's defaults,
 * then a repository's own file). A missing or empty layer adds nothing; no layers at all mean the defaults.
 *
 * @example parseConfigLayers([{ name: "acme/.github: .github/digest-pin.yml", text: "labels: [deps]" }, { name: CONFIG_PATH, text: null }])
 */
export function parseConfigLayers(layers: readonly ConfigLayer[]): ConfigResult {
  const merged: Raw = {};
  for (const layer of layers) {
    const read = readYaml(layer);
    if (!read.ok) return read;
    Object.assign(merged, read.raw ?? {});
  }
  delete merged._extends;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) return { ok: false, error: `${CONFIG_PATH} is invalid: ${problems(parsed.error)}` };
  const { minimumAge, schedule, _extends: _, ...rest } = parsed.data;
  const window = schedule === undefined ? null : parseSchedule(schedule);
  const config: RepoConfig = {
    ...rest,
    minimumAgeMs: parseDuration(minimumAge) ?? 0,
    schedule: window?.ok ? window.schedule : null,
  };
  const effective: EffectiveConfig = { ...rest, minimumAge, ...(schedule === undefined ? {} : { schedule }) };
  return { ok: true, config, effective };
}

/**
 * Parse the config file's text; a missing file (null) means the defaults. `byteSize` is the file's size when it is
 * known without its text (GitHub's blob size): a file over MAX_CONFIG_BYTES is refused unread.
 *
 * @example
 * parseConfig("pinUnpinned: false\n"); // { ok: true, config: { …, pinUnpinned: false }, effective: { … } }
 */
export function parseConfig(text: string | null, byteSize?: number | null): ConfigResult {
  return parseConfigLayers([{ name: CONFIG_PATH, text, ...(byteSize == null ? {} : { byteSize }) }]);
}

/**
 * The YAML document as plain data. The library's own check for duplicate keys compares every pair of keys (half a
 * second for a 64 KiB file of keys), so keys are checked here, in one pass: at the top, the only mapping a valid
 * config has.
 */
function yamlData(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false });
  const [first] = doc.errors;
  if (first) throw first;
  if (isMap(doc.contents)) {
    const seen = new Set<unknown>();
    for (const { key } of doc.contents.items) {
      const name = isScalar(key) ? key.value : key;
      if (!seen.has(name)) {
        seen.add(name);
        continue;
      }
      const at = isScalar(key) && key.range ? key.range[0] : 0;
      const error = new YAMLParseError([at, at + 1], "DUPLICATE_KEY", "Map keys must be unique");
      error.linePos = [{ line: text.slice(0, at).split("\n").length, col: 1 }];
      throw error;
    }
  }
  return doc.toJS({ maxAliasCount: 50 });
}

/** `10485760` → `10 MiB`, `70000` → `68.4 KiB`. */
function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
  return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
}

/**
 * A predicate for the plan: whether a reference is excluded by ignorePaths or ignoreImages. Each path and image name
 * is matched once; the steps of all of it count against `counter` (a GlobError past its limit).
 *
 * @example
 * ignoreMatcher({ ...DEFAULT_CONFIG, ignorePaths: ["dev/**"] })("dev/Dockerfile", found); // true
 */
export function ignoreMatcher(
  config: RepoConfig,
  counter?: StepCounter,
): (path: string, ref: FoundReference) => boolean {
  const pathMatch = globMatcher(config.ignorePaths, counter);
  const imageMatch = globMatcher(config.ignoreImages.map(normalizeImagePattern), counter);
  return (path, found) => {
    if (pathMatch(path)) return true;
    return found.reference !== null && imageMatch(imageName(found.reference));
  };
}

/** Matching gives the event loop back after this many steps (a few milliseconds). */
const STEPS_PER_TURN = 200_000;

/**
 * Whether each reference of `files` is ignored, decided before planning: every path and image name is matched once,
 * all of it within GLOB_LIMITS.stepsPerScan steps, yielding to the event loop every few milliseconds. Past the
 * budget, a config error to report (no pattern a person writes comes near it).
 *
 * @example
 * const ignores = await ignoreDecisions(config, files);
 * if (ignores.ok) plan(files, resolutions, { pinUnpinned: true, isIgnored: ignores.isIgnored });
 */
export async function ignoreDecisions(
  config: RepoConfig,
  files: ReadonlyArray<{ path: string; references: readonly FoundReference[] }>,
): Promise<{ ok: true; isIgnored: (path: string, ref: FoundReference) => boolean } | { ok: false; error: string }> {
  const counter: StepCounter = { steps: 0, limit: GLOB_LIMITS.stepsPerScan };
  const isIgnored = ignoreMatcher(config, counter);
  let turn = 0;
  try {
    for (const file of files) {
      for (const found of file.references) {
        isIgnored(file.path, found);
        if (counter.steps - turn > STEPS_PER_TURN) {
          turn = counter.steps;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
  } catch (error) {
    if (!(error instanceof GlobError)) throw error;
    const budget = GLOB_LIMITS.stepsPerScan.toLocaleString("en-US");
    return {
      ok: false,
      error:
        `${CONFIG_PATH}: matching ignorePaths and ignoreImages against this repository's paths and image names ` +
        `takes more than ${budget} steps; use fewer or simpler patterns`,
    };
  }
  return { ok: true, isIgnored };
}

/**
 * Patterns name images as a FROM line does: `alpine`, `library/alpine`, `docker.io/alpine` and
 * `index.docker.io/library/alpine` all mean `docker.io/library/alpine`. A single Docker Hub path component gets
 * `library/` unless it is a `**` glob, which spans components.
 */
function normalizeImagePattern(pattern: string): string {
  const slash = pattern.indexOf("/");
  const first = slash === -1 ? "" : pattern.slice(0, slash);
  const hasRegistry = slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasRegistry ? first : "docker.io";
  if (registry === "index.docker.io") registry = "docker.io";
  const path = hasRegistry ? pattern.slice(slash + 1) : pattern;
  if (registry === "docker.io" && !path.includes("/") && !path.includes("**")) return `docker.io/library/${path}`;
  return `${registry}/${path}`;
}
