// `pin|check --format github`: a plan as GitHub Actions workflow commands, so that each finding shows on the pull
// request's diff at its line. `::error` for an unpinned reference and for one the registry could not resolve (both
// fail a check), `::warning` for a pin whose tag has moved (drift), `::notice` for a skipped reference.
// https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions

import { isAbsolute, relative, resolve, sep } from "node:path";
import type { SkippedFile } from "./local/read.js";
import type { Plan } from "./plan.js";

/**
 * A command's message: `%`, CR and LF percent-encoded, as the runner decodes them, so that text from a repository can
 * neither end the command nor start another one on a new line.
 *
 * @example escapeData("50%\nnext") // "50%25%0Anext"
 */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/**
 * A property value (`file=…,line=…`): as escapeData, and `:` and `,` too, which would end the value.
 *
 * @example escapeProperty("a,b:c") // "a%2Cb%3Ac"
 */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

type Level = "error" | "warning" | "notice";

function command(level: Level, properties: { file: string; line: number; title: string }, message: string): string {
  const props = `file=${escapeProperty(properties.file)},line=${properties.line},title=${escapeProperty(properties.title)}`;
  return `::${level} ${props}::${escapeData(message)}\n`;
}

export interface AnnotationOptions {
  /** Prefix of every path, so that paths are relative to the repository root (the workspace): `dir/` or "". */
  root: string;
  /** Files passed over (too large, binary, unreadable): a warning each, since their references went unchecked. */
  skippedFiles?: readonly SkippedFile[];
}

/**
 * The plan as workflow commands, one line each, then a plain summary line.
 *
 * @example renderAnnotations(plan, { root: "" })
 *   // "::error file=Dockerfile,line=1,title=Unpinned image::alpine:3.20 is not pinned to a digest; pin it to …\n…"
 */
export function renderAnnotations(plan: Plan, options: AnnotationOptions): string {
  const at = (path: string, line: number, title: string) => ({ file: `${options.root}${path}`, line, title });
  let out = "";
  for (const c of plan.changes) {
    out +=
      c.oldDigest === null
        ? command("error", at(c.path, c.line, "Unpinned image"), `${c.from} is not pinned to a digest; pin it to ${c.to}`)
        : command(
            "warning",
            at(c.path, c.line, "Image digest drifted"),
            `${c.image}:${c.tag} now points to ${c.newDigest} (pinned: ${c.oldDigest}); refresh it to ${c.to}`,
          );
  }
  for (const e of plan.errors) {
    out += command("error", at(e.path, e.line, "Could not resolve image"), `${e.text}: ${e.error}`);
  }
  for (const s of plan.skipped) {
    out += command("notice", at(s.path, s.line, "Image skipped"), `${s.text}: ${s.reason}${s.detail ? ` (${s.detail})` : ""}`);
  }
  for (const f of options.skippedFiles ?? []) {
    out += command("warning", at(f.path, 1, "Dockerfile not read"), `${f.path} was not checked: ${f.detail}`);
  }
  const pinned = plan.changes.filter((c) => c.oldDigest === null).length;
  out +=
    `digest-pin: ${pinned} unpinned, ${plan.changes.length - pinned} drifted, ${plan.errors.length} errors, ` +
    `${plan.current.length} current, ${plan.skipped.length} skipped.\n`;
  return out;
}

/**
 * The prefix that makes a path below `dir` relative to `cwd` (the workspace root in a workflow), `/`-separated.
 *
 * @example annotationRoot("services/api", "/work") // "services/api/"
 */
export function annotationRoot(dir: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, dir));
  if (rel === "") return "";
  // Outside the workspace GitHub cannot place the annotation on the diff; the absolute path at least says where.
  const path = rel.startsWith("..") || isAbsolute(rel) ? resolve(cwd, dir) : rel;
  return `${path.split(sep).join("/")}/`;
}
