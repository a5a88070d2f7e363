// The hidden, machine-readable plan in a pull request body. Later runs derive everything from it: whether the PR is
// current, whether someone else pushed, which digests a closed PR declined. No database.

import type { Change } from "../plan.js";

const PREFIX = "<!-- digest-pin:plan ";
const SUFFIX = " -->";

/** What the marker keeps of a change: enough to compare plans and to know which digests were proposed. */
export type MarkedChange = Pick<Change, "path" | "line" | "image" | "tag" | "from" | "to" | "oldDigest" | "newDigest">;

export interface Marker {
  v: 1;
  /** The commit this app made for the branch: any other head means someone else pushed. */
  commit: string;
  /** Blob ids, on the base, of the files the commit rewrites: a change there means the plan must be redone. */
  files: Record<string, string>;
  changes: MarkedChange[];
  /** Set when the app itself closed the PR because nothing was left to change: that is not declining its digests. */
  resolved?: true;
}

export function markChanges(changes: readonly Change[]): MarkedChange[] {
  return changes.map(({ path, line, image, tag, from, to, oldDigest, newDigest }) => ({
    path,
    line,
    image,
    tag,
    from,
    to,
    oldDigest,
    newDigest,
  }));
}

/** Base64 keeps the JSON from ever closing the HTML comment early. */
export function renderMarker(marker: Marker): string {
  return `${PREFIX}${Buffer.from(JSON.stringify(marker)).toString("base64")}${SUFFIX}`;
}

/** The marker of a PR body, or null when there is none or it is damaged. */
export function readMarker(body: string | null | undefined): Marker | null {
  if (!body) return null;
  const start = body.lastIndexOf(PREFIX);
  if (start === -1) return null;
  const end = body.indexOf(SUFFIX, start + PREFIX.length);
  if (end === -1) return null;
  try {
    const value = JSON.parse(Buffer.from(body.slice(start + PREFIX.length, end), "base64").toString("utf8")) as Marker;
    if (value?.v !== 1 || typeof value.commit !== "string" || !Array.isArray(value.changes)) return null;
    if (typeof value.files !== "object" || value.files === null || Array.isArray(value.files)) return null;
    if (!Object.values(value.files).every((blob) => typeof blob === "string")) return null;
    if (!value.changes.every(isMarkedChange)) return null;
    return value;
  } catch {
    return null;
  }
}

/** `body` with its (last) marker replaced by `marker`, or `marker` appended when it has none. */
export function replaceMarker(body: string, marker: Marker): string {
  const start = body.lastIndexOf(PREFIX);
  const end = start === -1 ? -1 : body.indexOf(SUFFIX, start + PREFIX.length);
  if (end === -1) return `${body}\n\n${renderMarker(marker)}`;
  return body.slice(0, start) + renderMarker(marker) + body.slice(end + SUFFIX.length);
}

/** Bodies can be edited by people: a change that is not whole would break the readers of the marker. */
function isMarkedChange(value: unknown): value is MarkedChange {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.path === "string" &&
    typeof c.line === "number" &&
    typeof c.image === "string" &&
    typeof c.tag === "string" &&
    typeof c.from === "string" &&
    typeof c.to === "string" &&
    (c.oldDigest === null || typeof c.oldDigest === "string") &&
    typeof c.newDigest === "string"
  );
}

/** Whether two markers ask for the same edits on the same base files (the commit id aside). */
export function samePlan(a: Pick<Marker, "files" | "changes">, b: Pick<Marker, "files" | "changes">): boolean {
  // Code-unit order: localeCompare calls distinct strings equal (NFC/NFD forms, zero-width characters).
  const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const canonical = (m: Pick<Marker, "files" | "changes">) =>
    JSON.stringify({
      files: Object.entries(m.files).sort(([x], [y]) => byCodeUnit(x, y)),
      changes: m.changes.map((c) => JSON.stringify([c.path, c.line, c.from, c.to, c.newDigest])).sort(byCodeUnit),
    });
  return canonical(a) === canonical(b);
}
