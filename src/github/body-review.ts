// What a reviewer needs about each update, in the body's words: when the new image was built and how much older the
// old one is, the platforms added and dropped (a dropped one flagged), and links to the image's registry page, its
// source, and the compare view of the two revisions, made only from parts image-links.ts validated.

import type { Change } from "../plan.js";
import { compareUrl, commitUrl, imageSource, registryPage, type ImageSource } from "./image-links.js";
import { inlineCode, inlineText, link } from "./markdown.js";

const DAY_MS = 86_400_000;

/** A digest the app validated: only its algorithm and hex digits, nothing to escape. */
export function shortDigest(digest: string | null): string {
  if (digest === null) return "—";
  const [algorithm, hex = ""] = digest.split(":");
  return `\`${algorithm}:${hex.slice(0, 12)}\``;
}

/** @example plural(2, "refresh", "refreshes") // "2 refreshes" */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `2024-05-01 14:03 UTC`: a fixed form, so that the body of an unchanged plan stays byte-identical. */
function day(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function span(ms: number): string {
  if (ms < 2 * 3_600_000) return plural(Math.max(1, Math.round(ms / 60_000)), "minute");
  if (ms < 2 * DAY_MS) return plural(Math.round(ms / 3_600_000), "hour");
  return plural(Math.round(ms / DAY_MS), "day");
}

/** When the new image was built, and how much older the old one is. */
function ages(c: Change): string | null {
  const made = c.review?.new?.created;
  const old = c.review?.old?.created;
  if (!made) return old ? `the old image was built ${day(old)}; the new one does not say when it was built` : null;
  const parts = [`built ${day(made)}`];
  if (old) {
    const gap = Date.parse(made) - Date.parse(old);
    parts.push(gap >= 0 ? `the old image was built ${day(old)}, ${span(gap)} earlier` : `the old image was built ${day(old)}`);
  }
  return parts.join("; ");
}

/** Platforms added and dropped between the old and new index; a dropped one is flagged. */
function platformChanges(c: Change): string | null {
  const before = c.review?.old?.platforms;
  const after = c.review?.new?.platforms;
  if (!before || !after) return null;
  const added = after.filter((p) => !before.includes(p));
  const dropped = before.filter((p) => !after.includes(p));
  const parts = [];
  if (dropped.length > 0) parts.push(`⚠️ **dropped ${inlineText(dropped.join(", "))}** (builds for ${dropped.length === 1 ? "it" : "them"} will fail)`);
  if (added.length > 0) parts.push(`added ${inlineText(added.join(", "))}`);
  return parts.length > 0 ? `platforms: ${parts.join("; ")}` : null;
}

/** Links to the registry page, the source, the commit or the compare view, from validated parts only. */
function links(c: Change): string {
  const out: string[] = [];
  const page = registryPage(c.image);
  if (page) out.push(link("registry", page));
  const before: ImageSource = imageSource(c.image, c.review?.old?.labels ?? {});
  const after: ImageSource = imageSource(c.image, c.review?.new?.labels ?? {});
  if (after.repository) {
    out.push(link(`source: ${after.repository.host}${after.repository.pathname}`, after.repository));
    const compare = compareUrl(before, after);
    const commit = after.revision ? commitUrl(after.repository, after.revision) : null;
    if (compare && before.revision && after.revision) {
      out.push(link(`compare ${before.revision.slice(0, 7)}…${after.revision.slice(0, 7)}`, compare));
    } else if (commit && after.revision) out.push(link(`commit ${after.revision.slice(0, 7)}`, commit));
  } else if (after.definition) {
    out.push(link("Docker Official Image definition", after.definition));
  } else {
    out.push("no source known (the image has no org.opencontainers.image.source label)");
  }
  if (after.version) out.push(`version ${before.version ? `${inlineText(before.version)} → ` : ""}${inlineText(after.version)}`);
  return out.join(" · ");
}

/**
 * One list item per distinct update (image, tag, old and new digest).
 *
 * @example updateItems(plan.changes.filter((c) => c.oldDigest !== null))
 */
export function updateItems(updates: readonly Change[]): string[] {
  const seen = new Map<string, Change>();
  for (const c of updates) seen.set(`${c.image}:${c.tag}@${c.oldDigest}>${c.newDigest}`, c);
  return [...seen.values()].map((c) => {
    const facts = [ages(c), platformChanges(c)].filter((f): f is string => f !== null);
    const head = `- ${inlineCode(`${c.image}:${c.tag}`)} ${shortDigest(c.oldDigest)} → ${shortDigest(c.newDigest)}`;
    return `${head}${facts.length > 0 ? `: ${facts.join("; ")}` : ""} — ${links(c)}`;
  });
}

