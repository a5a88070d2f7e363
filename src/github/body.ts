// The words people read: pull request title, body and commit message, comment replies. A body has two parts a
// reviewer needs apart: pins (the same image bytes, now named by digest: safe at once) and updates (new image bytes,
// with when they were built, what platforms changed and where their source is). Whatever the plan's size the body
// fits GitHub's limit: long tables fold into <details>, and what does not fit is counted, never cut mid-line.

import { stringify as yamlStringify } from "yaml";
import type { Change, Plan, PlanError } from "../plan.js";
import { visible } from "../visible.js";
import { CONFIG_PATH, type EffectiveConfig } from "./config.js";
import { plural, shortDigest, updateItems } from "./body-review.js";
import { codeBlock, inlineCode, inlineText } from "./markdown.js";
import { postedError, postedList } from "./posted.js";

export const TITLE_PIN = "Pin container images to digests";
export const TITLE_UPDATE = "Update container image digests";

/** GitHub refuses a body over 65,536 characters; measured in UTF-8 bytes here, which are never fewer. */
export const BODY_LIMIT = 65_536;
/** What the app allows itself, leaving room for GitHub's own counting. */
const BODY_BUDGET = 64_000;
/** Rows of a table shown before the rest folds into <details>. */
const ROWS_SHOWN = 10;
const MAX_CONFIG_CHARS = 4_000;
const MAX_SNIPPET_CHARS = 300;
const COMMIT_LINES = 50;

/**
 * The title: a pin when anything is newly pinned, else an update; with the configured prefix.
 *
 * @example titleFor(plan.changes, "chore(deps):") // "chore(deps): Pin container images to digests"
 */
export function titleFor(changes: readonly Change[], prefix = ""): string {
  const title = changes.some((c) => c.oldDigest === null) ? TITLE_PIN : TITLE_UPDATE;
  return prefix.trim() === "" ? title : `${prefix.trim()} ${title}`;
}

/**
 * A reference that could not be resolved, as a list item: its path and text as code, the registry's message as text.
 *
 * @example
 * errorItem({ path: "Dockerfile", line: 3, text: "node:20", error: "429 Too Many Requests" })
 * // "- `Dockerfile` line 3: `node:20`: 429 Too Many Requests"
 */
export function errorItem(e: PlanError): string {
  return `- ${inlineCode(e.path)} line ${e.line}: ${inlineCode(e.text)}: ${inlineText(postedError(e.error))}`;
}

/** The opening sentence: what the pull request pins and refreshes. */
function summary(p: Plan): string {
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  const refreshed = p.changes.length - pinned;
  const parts = [];
  if (pinned > 0) parts.push(`pins ${plural(pinned, "image reference")} to ${pinned === 1 ? "its" : "their"} current digest`);
  if (refreshed > 0) parts.push(`refreshes ${plural(refreshed, "pin")} whose tag has moved`);
  return `This pull request ${parts.join(" and ")}.`;
}

/** What the body says besides the plan: the effective config and where it came from. */
export interface BodyContext {
  config?: { effective: EffectiveConfig; sources: readonly string[] };
}

/** A list of lines that may be shortened to fit, most important first, and how to say what was left out. */
interface Part {
  lines: string[];
  /** Lines always kept with the part (a table header): counted once. */
  head?: string[];
  /** Renders the kept lines, and a note for the `omitted` ones. */
  render: (kept: string[], omitted: number) => string[];
}

function bytes(text: string): number {
  return Buffer.byteLength(text, "utf8") + 1;
}

/** A table whose first ROWS_SHOWN rows show and the rest fold away; rows that did not fit are counted. */
function table(header: string[], rows: string[], what: string): Part {
  return {
    lines: rows,
    head: header,
    render: (kept, omitted) => {
      const out = [...header, ...kept.slice(0, ROWS_SHOWN)];
      if (kept.length > ROWS_SHOWN) {
        out.push("", `<details><summary>and ${kept.length - ROWS_SHOWN} more</summary>`, "", ...header, ...kept.slice(ROWS_SHOWN), "", "</details>");
      }
      if (omitted > 0) out.push("", `…and ${plural(omitted, what)} more, not listed here (the diff has every one).`);
      return out;
    },
  };
}

function list(items: string[], what: string, head: string[] = []): Part {
  return {
    lines: items,
    head,
    render: (kept, omitted) => [...head, ...kept, ...(omitted > 0 ? [`- …and ${plural(omitted, what)} more`] : [])],
  };
}

const PIN_HEADER = ["| File | Line | Image | Tag | Digest | Platforms |", "| --- | ---: | --- | --- | --- | --- |"];
const UPDATE_HEADER = ["| File | Line | Image | Tag | Old digest | New digest |", "| --- | ---: | --- | --- | --- | --- |"];

function pinRow(c: Change): string {
  return (
    `| ${inlineText(c.path)} | ${c.line} | ${inlineText(c.image)} | ${inlineText(c.tag)} | ${shortDigest(c.newDigest)} | ` +
    `${inlineText(c.platforms?.join(", ") ?? "")} |`
  );
}

function updateRow(c: Change): string {
  return (
    `| ${inlineText(c.path)} | ${c.line} | ${inlineText(c.image)} | ${inlineText(c.tag)} | ${shortDigest(c.oldDigest)} | ` +
    `${shortDigest(c.newDigest)} |`
  );
}

/** The exact snippets that leave this pull request's images or files alone. */
function howToIgnore(p: Plan): string[] {
  // An update is what people most often want to hold back; a name too long to be worth copying gets a placeholder.
  const first = p.changes.find((c) => c.oldDigest !== null) ?? p.changes[0];
  const quoted = (text: string | undefined, fallback: string) =>
    JSON.stringify(text !== undefined && text.length <= MAX_SNIPPET_CHARS ? text : fallback);
  const yaml = [
    `# ${CONFIG_PATH}`,
    "ignoreImages:",
    `  - ${quoted(first?.image, "docker.io/library/python")}   # this image, whatever its tag`,
    "ignorePaths:",
    `  - ${quoted(first?.path, "path/to/Dockerfile")}   # every reference in this file (globs work: "dev/**")`,
  ];
  return [
    "<details><summary>How to ignore an image or a file</summary>",
    "",
    `In ${inlineCode(CONFIG_PATH)}:`,
    "",
    codeBlock(yaml.join("\n")),
    "",
    "Or, in a Dockerfile, on the line before the instruction (for a global `ARG` default, before the `ARG`):",
    "",
    "```dockerfile\n# digest-pin: ignore\nFROM python:3.12\n```",
    "",
    "</details>",
  ];
}

function effectiveConfig(context: BodyContext): string[] {
  if (!context.config) return [];
  let yaml = yamlStringify(context.config.effective, { lineWidth: 0 }).trimEnd();
  if (yaml.length > MAX_CONFIG_CHARS) yaml = `${yaml.slice(0, MAX_CONFIG_CHARS)}\n# … (cut: longer than ${MAX_CONFIG_CHARS} characters)`;
  const sources = context.config.sources.length > 0 ? context.config.sources.map(inlineCode).join(", then ") : "the defaults";
  return ["<details><summary>Effective configuration</summary>", "", `From ${sources}:`, "", codeBlock(yaml), "", "</details>"];
}

const FOOTER = [
  "<details><summary>Why digests?</summary>",
  "",
  "A tag such as `python:3.12-slim` can be moved to different bytes at any time, by a routine rebuild or by someone " +
    "who took over the tag. A digest names exactly one image and cannot change, so builds are reproducible and a " +
    "hijacked tag cannot slip in. The trade-off: a pinned image no longer receives updates by itself. digest-pin keeps " +
    "the tag next to the digest and proposes the new digest whenever the tag moves, so fixes still arrive, reviewed.",
  "",
  "</details>",
  "",
  "Commands (comment on this pull request; write access required):",
  "- `/digest-pin rescan`: check the registries again now",
  "- `/digest-pin recreate`: rebuild this branch from the base branch, discarding any commits pushed to it",
  "",
  "Closing this pull request without merging declines these digests: they are not proposed again, newer ones are.",
];

/** What the plan held back, for the reviewer who wonders where an update went. */
function heldBack(p: Plan): string[] {
  const count = (reason: string) => p.skipped.filter((s) => s.reason === reason).length;
  const out: string[] = [];
  const scheduled = count("schedule");
  const platforms = count("platforms-unchanged");
  if (scheduled > 0) out.push(`- ${plural(scheduled, "refresh", "refreshes")} wait for the configured schedule.`);
  if (platforms > 0) out.push(`- ${plural(platforms, "refresh", "refreshes")} left out: the manifests for this repository's platforms did not change.`);
  return out.length > 0 ? ["", ...out] : [];
}

/**
 * The pull request body: the pins, the updates with what a reviewer needs, unresolved references, how to ignore,
 * the effective config, and the marker last. At most BODY_BUDGET bytes, whatever the plan's size.
 *
 * @example renderBody(plan, renderMarker(marker), { config: { effective, sources: [".github/digest-pin.yml"] } })
 */
export function renderBody(p: Plan, marker: string, context: BodyContext = {}): string {
  const pins = p.changes.filter((c) => c.oldDigest === null);
  const updates = p.changes.filter((c) => c.oldDigest !== null);
  const blocks: (string[] | Part)[] = [[summary(p)]];
  if (updates.length > 0) {
    blocks.push(["", "### Updated: new image bytes", "", "Worth a look before merging: each tag now names a different image.", ""]);
    blocks.push(list(updateItems(updates), "update"));
    blocks.push([""]);
    blocks.push(table(UPDATE_HEADER, updates.map(updateRow), "reference"));
  }
  if (pins.length > 0) {
    blocks.push([
      "",
      "### Pinned: builds exactly what they build today",
      "",
      "Safe to merge at once: each reference keeps the image its tag names now, and names it by digest.",
      "",
    ]);
    blocks.push(table(PIN_HEADER, pins.map(pinRow), "reference"));
  }
  if (p.errors.length > 0) {
    blocks.push(list(postedList(p.errors, errorItem), "reference", ["", "**Could not be resolved** (left unchanged; retried on the next run):", ""]));
  }
  blocks.push(heldBack(p), [""], howToIgnore(p), [""], effectiveConfig(context), [""], FOOTER, ["", marker]);
  return fit(blocks).join("\n");
}

/** Keep every fixed block and as many lines of each part as the budget allows, in order. */
function fit(blocks: readonly (string[] | Part)[]): string[] {
  const parts = blocks.filter((b): b is Part => !Array.isArray(b));
  const fixed = blocks.filter((b): b is string[] => Array.isArray(b)).flat();
  // Each part may add its header twice (the folded table), a <details> wrapper and a note: reserve room for those.
  const overhead = parts.reduce((sum, part) => sum + 2 * (part.head ?? []).reduce((s, l) => s + bytes(l), 0) + 200, 0);
  let left = BODY_BUDGET - fixed.reduce((sum, line) => sum + bytes(line), 0) - overhead;
  const kept = new Map<Part, string[]>();
  for (const part of parts) {
    const lines: string[] = [];
    for (const line of part.lines) {
      if (bytes(line) > left) break;
      left -= bytes(line);
      lines.push(line);
    }
    kept.set(part, lines);
  }
  return blocks.flatMap((b) => {
    if (Array.isArray(b)) return b;
    const lines = kept.get(b) ?? [];
    return b.render(lines, b.lines.length - lines.length);
  });
}

/**
 * The commit message: the title, then the same summary as the body in plain lines (what changed, image by image),
 * and nothing machine-readable, since a squash merge may copy it into the base branch's history.
 *
 * @example commitMessage(plan, "chore(deps):") // "chore(deps): Pin container images to digests\n\nThis pull request pins …"
 */
export function commitMessage(p: Plan, prefix = ""): string {
  const lines = p.changes.map((c) =>
    c.oldDigest === null
      ? `- pin ${visibleLine(c.path)}:${c.line} ${visibleLine(c.image)}:${visibleLine(c.tag)} to ${c.newDigest}`
      : `- update ${visibleLine(c.path)}:${c.line} ${visibleLine(c.image)}:${visibleLine(c.tag)} from ${c.oldDigest} to ${c.newDigest}`,
  );
  const shown = lines.slice(0, COMMIT_LINES);
  if (lines.length > shown.length) shown.push(`- …and ${lines.length - shown.length} more`);
  return [titleFor(p.changes, prefix), "", summary(p), "", ...shown].join("\n");
}

/** Text from the repository on one line of a commit message, control characters shown as escapes. */
function visibleLine(text: string): string {
  return visible(text);
}
