// What the CLI prints: the JSON contracts and the readable tables.

import type { FoundReference } from "./dockerfile/types.js";
import type { Plan, ScannedFile } from "./plan.js";
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

/** The `scan --json` contract: files without references omitted (unless they failed to scan), in file order. */
export function scanJson(files: readonly ScannedFile[]): {
  files: { path: string; references: ScanJsonReference[]; error?: string }[];
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
  };
}

function status(r: FoundReference): string {
  if (r.skip !== null) return `skipped (${r.skip}${r.skipDetail ? `: ${r.skipDetail}` : ""})`;
  if (r.reference?.digest && r.reference.tag === null) return "digest only";
  return r.reference?.digest ? "pinned" : "unpinned";
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

export function renderScan(files: readonly ScannedFile[]): string {
  const rows = files.flatMap((f) => [
    ...(f.error !== undefined ? [[`${f.path}:1`, "-", "-", `error (${f.error})`]] : []),
    ...f.references.map((r) => [`${f.path}:${r.line}`, r.kind, r.text, status(r)]),
  ]);
  if (rows.length === 0) return `No image references found (${files.length} Dockerfiles scanned).\n`;
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
    `\n${files.length} Dockerfiles, ${references} references: ${counts.pinned} pinned, ${counts.unpinned} unpinned, ${counts.other} other` +
    `${failed > 0 ? `; ${failed} could not be scanned` : ""}.\n`
  );
}

/** The `pin --json` / `check --json` contract. */
export function planJson(p: Plan) {
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
    skipped: p.skipped.map((s) => ({ path: s.path, line: s.line, text: s.text, reason: s.reason })),
    errors: p.errors.map((e) => ({ path: e.path, line: e.line, text: e.text, error: e.error, ...(e.code ? { code: e.code } : {}) })),
  };
}

export function renderPlan(p: Plan, command: "pin" | "check"): string {
  let out = "";
  if (p.changes.length > 0) {
    const verb = command === "pin" ? "Changed" : "Would change";
    out += `${verb}:\n`;
    out += table(
      ["FILE:LINE", "FROM", "TO"],
      p.changes.map((c) => [`${c.path}:${c.line}`, c.from, c.to]),
    );
  }
  if (p.errors.length > 0) {
    out += `${out ? "\n" : ""}Could not resolve:\n`;
    out += table(
      ["FILE:LINE", "REFERENCE", "ERROR"],
      p.errors.map((e) => [`${e.path}:${e.line}`, e.text, e.error]),
    );
  }
  if (p.skipped.length > 0) {
    out += `${out ? "\n" : ""}Skipped:\n`;
    out += table(
      ["FILE:LINE", "REFERENCE", "REASON"],
      p.skipped.map((s) => [`${s.path}:${s.line}`, s.text, s.reason]),
    );
  }
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  out +=
    `${out ? "\n" : ""}${pinned} to pin, ${p.changes.length - pinned} to refresh, ${p.current.length} current, ` +
    `${p.skipped.length} skipped, ${p.errors.length} errors.\n`;
  return out;
}
