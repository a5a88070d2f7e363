// The repository config, `.github/digest-pin.yml`: parsed and validated with messages a person can act on.

import picomatch from "picomatch";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import type { FoundReference } from "../dockerfile/types.js";
import { imageName } from "../reference.js";

export const CONFIG_PATH = ".github/digest-pin.yml";

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

const stringList = z.array(z.string().min(1, "must not be empty"));

const schema = z
  .object({
    enabled: z.boolean().default(true),
    pinUnpinned: z.boolean().default(true),
    ignorePaths: stringList.default([]),
    ignoreImages: stringList.default([]),
    labels: stringList.default(["dependencies", "docker"]),
    reviewers: stringList.default([]),
    assignees: stringList.default([]),
    minimumAge: z
      .union([z.number(), z.string()], { errorMap: () => ({ message: DURATION_MESSAGE }) })
      .default(0)
      .refine((v) => parseDuration(v) !== null, { message: DURATION_MESSAGE }),
  })
  .strict();

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
}

export type ConfigResult = { ok: true; config: RepoConfig } | { ok: false; error: string };

export const DEFAULT_CONFIG: RepoConfig = {
  enabled: true,
  pinUnpinned: true,
  ignorePaths: [],
  ignoreImages: [],
  labels: ["dependencies", "docker"],
  reviewers: [],
  assignees: [],
  minimumAgeMs: 0,
};

/** A fresh copy of the defaults: callers may change their config without changing everyone's. */
function defaults(): RepoConfig {
  return structuredClone(DEFAULT_CONFIG);
}

/** Parse the config file's text; a missing file (null) means the defaults. */
export function parseConfig(text: string | null): ConfigResult {
  if (text === null) return { ok: true, config: defaults() };
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 50 });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : "";
    return { ok: false, error: `${CONFIG_PATH} is not valid YAML${where}: ${(error as Error).message.split("\n")[0]}` };
  }
  if (raw === null || raw === undefined) return { ok: true, config: defaults() };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join(".");
      if (issue.code === "unrecognized_keys") return `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
      return key ? `"${key}": ${issue.message}` : issue.message;
    });
    return { ok: false, error: `${CONFIG_PATH} is invalid: ${problems.join("; ")}` };
  }
  const { minimumAge, ...rest } = parsed.data;
  return { ok: true, config: { ...rest, minimumAgeMs: parseDuration(minimumAge) ?? 0 } };
}

/** A predicate for the plan: whether a reference is excluded by ignorePaths or ignoreImages. */
export function ignoreMatcher(config: RepoConfig): (path: string, ref: FoundReference) => boolean {
  const pathMatch = config.ignorePaths.length > 0 ? picomatch(config.ignorePaths, { dot: true }) : () => false;
  const imagePatterns = config.ignoreImages.map((p) => picomatch(normalizeImagePattern(p)));
  return (path, found) => {
    if (pathMatch(path)) return true;
    if (!found.reference) return false;
    const name = imageName(found.reference);
    return imagePatterns.some((match) => match(name));
  };
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
