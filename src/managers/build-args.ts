// Build arguments a repository passes at build time, found in its workflows, compose files and CI scripts: an ARG
// they set must not be pinned from its default (the build would silently get the pinned digest).

import { posix } from "node:path";
import { lineAt } from "../dockerfile/text.js";
import type { TextSource } from "./source.js";
import type { BuildArgUse } from "./types.js";

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
/** `--build-arg NAME=…`, `--build-arg=NAME`, `--build-arg "NAME=…"` in a shell script. */
const BUILD_ARG_FLAG = new RegExp(`--build-arg(?:[ \\t]+|=)["']?(${NAME})`, "g");
/** One `NAME=value` (or bare `NAME`) per line, as docker/build-push-action's `build-args` lists them. */
const LIST_LINE = new RegExp(`(?:^|[\\r\\n,])[ \\t"'-]*(${NAME})[ \\t]*(?==|[\\r\\n"',]|$)`, "g");

/** Matches of `re` in src.text[start, end), each with its line. */
function matches(src: TextSource, start: number, end: number, re: RegExp): Array<{ name: string; line: number }> {
  const out: Array<{ name: string; line: number }> = [];
  const text = src.text.slice(start, end);
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const name = m[1] as string;
    out.push({ name, line: lineAt(src.lineStarts, start + m.index + m[0].indexOf(name)) + 1 });
    if (out.length >= 200) break;
  }
  return out;
}

/**
 * Build arguments passed with `--build-arg` in a script (a workflow's `run:`, a GitLab job's `script:`), which may
 * build any Dockerfile.
 *
 * @example
 * scriptBuildArgs(src, 0, src.text.length, ".gitlab-ci.yml", "--build-arg in a script") // [{ name: "GO", … }]
 */
export function scriptBuildArgs(src: TextSource, start: number, end: number, path: string, via: string): BuildArgUse[] {
  return matches(src, start, end, BUILD_ARG_FLAG).map(({ name, line }) => ({ name, path, line, via }));
}

/** Build arguments listed one a line (`NAME=value`) in src.text[start, end), for the given Dockerfile. */
export function listedBuildArgs(
  src: TextSource,
  start: number,
  end: number,
  path: string,
  via: string,
  dockerfile: string | undefined,
): BuildArgUse[] {
  return matches(src, start, end, LIST_LINE).map(({ name, line }) => ({
    name,
    path,
    line,
    via,
    ...(dockerfile === undefined ? {} : { dockerfile }),
  }));
}

/**
 * A repository path from path parts (relative to `base`), or undefined when it cannot be known from the file: it
 * uses a variable or an expression, is a URL, or leaves the repository.
 *
 * @example
 * repoPath("services/api", "..", "docker/Dockerfile") // "services/docker/Dockerfile"
 */
export function repoPath(base: string, ...parts: string[]): string | undefined {
  if (parts.some((p) => p.includes("$") || p.includes("://") || p.startsWith("git@"))) return undefined;
  const joined = posix.normalize(posix.join(base, ...parts));
  if (joined.startsWith("../") || joined === ".." || posix.isAbsolute(joined)) return undefined;
  return joined.replace(/^\.\//, "");
}

/** Whether a build argument applies to the Dockerfile at `path`. */
export function appliesTo(use: BuildArgUse, path: string): boolean {
  return use.dockerfile === undefined || use.dockerfile === path;
}

/** Build arguments for one Dockerfile, as the scanner takes them: name → where, for people. */
export function buildArgsFor(path: string, uses: readonly BuildArgUse[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const use of uses) {
    if (appliesTo(use, path) && !out.has(use.name)) out.set(use.name, `${use.path} line ${use.line}, ${use.via}`);
  }
  return out;
}
