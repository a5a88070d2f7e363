// What the CLI prints: the JSON contracts and the readable tables.

import type { FoundReference } from "./dockerfile/types.js";
import type { SkippedFile } from "./local/read.js";
import { WHOLE_FILE, type Plan, type ScannedFile } from "./plan.js";
import { imageName } from "./reference.js";
import { visible } from "./visible.js";

export interface ScanJsonReference {
  kind: FoundReference["kind"];
  line: number;
  text: string;
  image: string | null;
  tag: string | null;
  digest: string | null;
  skip: FoundReference["skip"];
}

/** How the tables show digests: cut to 12 hex digits (the default), or whole (`--wide`). */
export interface TableOptions {
  wide?: boolean;
}

/** Files passed over (size, count, binary, unreadable), as the JSON lists them. */
function skippedFilesJson(skipped: readonly SkippedFile[]) {
  return skipped.map((s) => ({ path: s.path, reason: s.reason, detail: s.detail }));
}

/**
 * The `scan --json` contract: files without references omitted (unless they failed to scan), in file order, and the
 * files passed over.
 */
export function scanJson(
  files: readonly ScannedFile[],
  skippedFiles: readonly SkippedFile[] = [],
): {
  files: { path: string; references: ScanJsonReference[]; error?: string }[];
  skippedFiles: ReturnType<typeof skippedFilesJson>;
} {
  return {
    files: files
      .filter((f) => f.references.length > 0 || f.error !== undefined)
      .map((f) => ({
        path: f.path,
        ...(f.error !== undefined ? { error: f.error } : {}),
        references: f.references.map((r) => ({
          kind: r.kind,
          line: r.line,
          text: r.text,
          image: r.reference ? imageName(r.reference) : null,
          tag: r.reference?.tag ?? null,
          digest: r.reference?.digest ?? null,
          skip: r.skip,
        })),
      })),
    skippedFiles: skippedFilesJson(skippedFiles),
  };
}

function status(r: FoundReference): string {
  if (r.skip !== null) return `skipped (${r.skip}${r.skipDetail ? `: ${r.skipDetail}` : ""})`;
  if (r.reference?.digest && r.reference.tag === null) return "digest only";
  return r.reference?.digest ? "pinned" : "unpinned";
}

const DIGEST_IN_TEXT = /(sha256:)([0-9a-f]{12})[0-9a-f]{52}(?![0-9a-f])/g;

/**
 * A reference with its sha256 digests cut to 12 hex digits and an ellipsis, as `docker images` shows IDs: enough to
 * tell digests apart in a table, short enough to read.
 *
 * @example shortDigests(`alpine:3.20@sha256:${"ab".repeat(32)}`) // "alpine:3.20@sha256:abababababab…"
 */
export function shortDigests(text: string): string {
  return text.replace(DIGEST_IN_TEXT, "$1$2…");
}

/**
 * Left-aligned columns, for terminals. Cells hold file names, reference text and registry messages, so their control
 * characters are shown as escapes: an ESC sequence in a Dockerfile must not reach the terminal.
 */
export function table(header: string[], raw: string[][]): string {
  const rows = raw.map((row) => row.map(visible));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function skippedFilesTable(skipped: readonly SkippedFile[]): string {
  if (skipped.length === 0) return "";
  return `Not read:\n${table(["FILE", "REASON"], skipped.map((s) => [s.path, `${s.reason} (${s.detail})`]))}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function renderScan(
  files: readonly ScannedFile[],
  options: TableOptions & { skippedFiles?: readonly SkippedFile[] } = {},
): string {
  const ref = (text: string) => (options.wide ? text : shortDigests(text));
  const skippedFiles = options.skippedFiles ?? [];
  const notRead = skippedFiles.length > 0 ? `; ${plural(skippedFiles.length, "file")} not read` : "";
  const rows = files.flatMap((f) => [
    ...(f.error !== undefined ? [[`${f.path}:1`, "-", "-", `error (${f.error})`]] : []),
    ...f.references.map((r) => [`${f.path}:${r.line}`, r.kind, ref(r.text), status(r)]),
  ]);
  const tail = skippedFiles.length > 0 ? `\n${skippedFilesTable(skippedFiles)}` : "";
  if (rows.length === 0) return `No image references found (${files.length} Dockerfiles scanned${notRead}).\n${tail}`;
  const counts = { pinned: 0, unpinned: 0, other: 0 };
  for (const f of files) {
    for (const r of f.references) {
      const s = status(r);
      if (s === "pinned") counts.pinned++;
      else if (s === "unpinned") counts.unpinned++;
      else counts.other++;
    }
  }
  const references = counts.pinned + counts.unpinned + counts.other;
  const failed = files.filter((f) => f.error !== undefined).length;
  return (
    table(["FILE:LINE", "KIND", "REFERENCE", "STATUS"], rows) +
    tail +
    `\n${files.length} Dockerfiles, ${references} references: ${counts.pinned} pinned, ${counts.unpinned} unpinned, ${counts.other} other` +
    `${failed > 0 ? `; ${failed} could not be scanned` : ""}${notRead}.\n`
  );
}

/** What a plan run was made with, for the JSON: the files read and passed over, and the config that applied. */
export interface PlanContext {
  files: number;
  skippedFiles: readonly SkippedFile[];
  /** The config file read (null: none, the defaults), and whether it leaves the repository alone. */
  config: { path: string | null; enabled: boolean };
}

/** The counts people and CI scripts look at first. */
export function planSummary(p: Plan, context: Pick<PlanContext, "files" | "skippedFiles">) {
  const pin = p.changes.filter((c) => c.oldDigest === null).length;
  const references = p.changes.length + p.current.length + p.skipped.length + p.errors.filter((e) => e.text !== WHOLE_FILE).length;
  return {
    files: context.files,
    references,
    pin,
    refresh: p.changes.length - pin,
    current: p.current.length,
    skipped: p.skipped.length,
    errors: p.errors.length,
    skippedFiles: context.skippedFiles.length,
  };
}

/** The `pin --json` / `check --json` contract. */
export function planJson(p: Plan, context: PlanContext = { files: 0, skippedFiles: [], config: { path: null, enabled: true } }) {
  return {
    changes: p.changes.map((c) => ({
      path: c.path,
      line: c.line,
      kind: c.kind,
      image: c.image,
      tag: c.tag,
      from: c.from,
      to: c.to,
      oldDigest: c.oldDigest,
      newDigest: c.newDigest,
    })),
    skipped: p.skipped.map((s) => ({
      path: s.path,
      line: s.line,
      text: s.text,
      reason: s.reason,
      ...(s.detail !== undefined ? { detail: s.detail } : {}),
    })),
    errors: p.errors.map((e) => ({ path: e.path, line: e.line, text: e.text, error: e.error, code: e.code ?? "UNEXPECTED" })),
    current: p.current.map((c) => ({ path: c.path, line: c.line, text: c.text, image: c.image, tag: c.tag, digest: c.digest })),
    skippedFiles: skippedFilesJson(context.skippedFiles),
    summary: planSummary(p, context),
    config: context.config,
  };
}

/**
 * A registry message without the reference it starts with when the table's REFERENCE column shows exactly that
 * (`ghcr.io/a/b:1: no answer…` beside `ghcr.io/a/b:1`): the reference is not said twice.
 */
function withoutSubject(error: string, text: string): string {
  return error.startsWith(`${text}: `) ? error.slice(text.length + 2) : error;
}

export interface RenderPlanOptions extends TableOptions {
  skippedFiles?: readonly SkippedFile[];
  /** `check`: the command that makes the changes it found, e.g. `digest-pin pin services/api`. */
  fix?: string;
}

export function renderPlan(p: Plan, command: "pin" | "check", options: RenderPlanOptions = {}): string {
  const ref = (text: string) => (options.wide ? text : shortDigests(text));
  let out = "";
  if (p.changes.length > 0) {
    const verb = command === "pin" ? "Changed" : "Would change";
    out += `${verb}:\n`;
    out += table(
      ["FILE:LINE", "FROM", "TO"],
      p.changes.map((c) => [`${c.path}:${c.line}`, ref(c.from), ref(c.to)]),
    );
  }
  if (p.errors.length > 0) {
    out += `${out ? "\n" : ""}Could not resolve:\n`;
    out += table(
      ["FILE:LINE", "REFERENCE", "ERROR"],
      p.errors.map((e) => [`${e.path}:${e.line}`, ref(e.text), withoutSubject(e.error, e.text)]),
    );
  }
  if (p.skipped.length > 0) {
    out += `${out ? "\n" : ""}Skipped:\n`;
    out += table(
      ["FILE:LINE", "REFERENCE", "REASON"],
      p.skipped.map((s) => [`${s.path}:${s.line}`, ref(s.text), s.reason]),
    );
  }
  const skippedFiles = options.skippedFiles ?? [];
  if (skippedFiles.length > 0) out += `${out ? "\n" : ""}${skippedFilesTable(skippedFiles)}`;
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  out +=
    `${out ? "\n" : ""}${pinned} to pin, ${p.changes.length - pinned} to refresh, ${p.current.length} current, ` +
    `${p.skipped.length} skipped, ${p.errors.length} errors` +
    `${skippedFiles.length > 0 ? `; ${plural(skippedFiles.length, "file")} not read` : ""}.\n`;
  if (command === "check" && p.changes.length > 0 && options.fix) {
    out += `Run "${visible(options.fix)}" to make ${p.changes.length === 1 ? "this change" : `these ${p.changes.length} changes`}.\n`;
  }
  return out;
}
