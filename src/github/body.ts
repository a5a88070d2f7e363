// The words people read: pull request title and body, comment replies.

import type { Change, Plan, PlanError } from "../plan.js";
import { inlineCode, inlineText } from "./markdown.js";
import { postedError, postedList } from "./posted.js";

export const TITLE_PIN = "Pin container images to digests";
export const TITLE_UPDATE = "Update container image digests";

export function titleFor(changes: readonly Change[]): string {
  return changes.some((c) => c.oldDigest === null) ? TITLE_PIN : TITLE_UPDATE;
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

/** A digest the app validated: only its algorithm and hex digits, nothing to escape. */
function shortDigest(digest: string | null): string {
  if (digest === null) return "—";
  const [algorithm, hex = ""] = digest.split(":");
  return `\`${algorithm}:${hex.slice(0, 12)}\``;
}

export function renderBody(p: Plan, marker: string): string {
  const lines: string[] = [];
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  const refreshed = p.changes.length - pinned;
  const parts = [];
  if (pinned > 0) parts.push(`pins ${pinned} image reference${pinned === 1 ? "" : "s"} to ${pinned === 1 ? "its" : "their"} current digest`);
  if (refreshed > 0) parts.push(`refreshes ${refreshed} pin${refreshed === 1 ? "" : "s"} whose tag has moved`);
  lines.push(`This pull request ${parts.join(" and ")}.`, "");
  lines.push("| File | Line | Image | Tag | Old digest | New digest | Platforms |");
  lines.push("| --- | ---: | --- | --- | --- | --- | --- |");
  for (const c of p.changes) {
    lines.push(
      `| ${inlineText(c.path)} | ${c.line} | ${inlineText(c.image)} | ${inlineText(c.tag)} | ${shortDigest(c.oldDigest)} | ` +
        `${shortDigest(c.newDigest)} | ${inlineText(c.platforms?.join(", ") ?? "")} |`,
    );
  }
  if (p.errors.length > 0) {
    lines.push("", "**Could not be resolved** (left unchanged; retried on the next run):", "");
    lines.push(...postedList(p.errors, errorItem));
  }
  lines.push(
    "",
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
    "",
    marker,
  );
  return lines.join("\n");
}
