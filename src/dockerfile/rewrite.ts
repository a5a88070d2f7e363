// Byte-exact rewriting: replace the given byte ranges, keep every other byte as it was (line endings, BOM,
// trailing spaces, even invalid UTF-8).

import type { Edit } from "./types.js";

export type RewriteErrorCode = "OUT_OF_RANGE" | "OVERLAP" | "INVALID_EDIT" | "CHANGED";

/**
 * An edit list that cannot be applied, with its code.
 *
 * @example try { applyEdits(bytes, edits) } catch (e) { if (e instanceof RewriteError && e.code === "CHANGED") … }
 */
export class RewriteError extends Error {
  override readonly name = "RewriteError";

  constructor(
    readonly code: RewriteErrorCode,
    message: string,
    readonly edit?: Edit,
  ) {
    super(message);
  }
}

function describe(e: Edit): string {
  return `[${e.start}, ${e.end})`;
}

/**
 * Apply byte-range replacements (UTF-8 strings), given in any order. Overlapping or out-of-range edits throw, and so
 * does an edit whose range no longer holds its `expected` text (CHANGED): offsets from another version of the file.
 *
 * @example applyEdits(Buffer.from("FROM a:1\n"), [{ start: 5, end: 8, replacement: "a:1@sha256:…", expected: "a:1" }])
 */
export function applyEdits(content: Uint8Array, edits: readonly Edit[]): Buffer {
  for (const e of edits) {
    if (!Number.isSafeInteger(e.start) || !Number.isSafeInteger(e.end) || typeof e.replacement !== "string") {
      throw new RewriteError("INVALID_EDIT", `invalid edit ${describe(e)}`, e);
    }
    if (e.start < 0 || e.end < e.start || e.end > content.length) {
      throw new RewriteError("OUT_OF_RANGE", `edit ${describe(e)} is outside the file (${content.length} bytes)`, e);
    }
  }
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  for (const e of edits) {
    if (e.expected !== undefined && !bytes.subarray(e.start, e.end).equals(Buffer.from(e.expected, "utf8"))) {
      throw new RewriteError("CHANGED", `bytes ${describe(e)} are no longer ${JSON.stringify(e.expected)}`, e);
    }
  }
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as Edit;
    const cur = sorted[i] as Edit;
    // Two edits at the same position have no defined order, even when one of them is empty.
    if (cur.start < prev.end || cur.start === prev.start) {
      throw new RewriteError("OVERLAP", `edits ${describe(prev)} and ${describe(cur)} overlap`, cur);
    }
  }
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const e of sorted) {
    parts.push(bytes.subarray(cursor, e.start), Buffer.from(e.replacement, "utf8"));
    cursor = e.end;
  }
  parts.push(bytes.subarray(cursor));
  return Buffer.concat(parts);
}
