// A YAML or JSON file as text, and the references found in it: character offsets (what the parsers report) mapped
// back to byte offsets, lines, the inline ignore comment, variables and parsing of the reference.

import { computeLineStarts, lineAt } from "../dockerfile/text.js";
import type { FoundReference, SkipReason } from "../dockerfile/types.js";
import { endsWithIgnore, IGNORE_DETAIL, isIgnoreLine, type CommentSign } from "../ignore-comments.js";
import { parseReference } from "../reference.js";
import type { Extraction, FileSkipReason } from "./types.js";

export interface TextSource {
  bytes: Uint8Array;
  /** The bytes as UTF-8, a BOM kept as U+FEFF (so that offsets count it). */
  text: string;
  lineStarts: number[];
  /** Byte offset of a character offset. */
  byteAt(offset: number): number;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 byte offsets of every character offset, for text that is not all ASCII. */
function byteOffsets(text: string): Int32Array {
  const out = new Int32Array(text.length + 1);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    out[i] = bytes;
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) bytes += 4; // a surrogate pair: all four bytes on the high half
    else if (c >= 0xdc00 && c <= 0xdfff) bytes += 0;
    else bytes += 3;
  }
  out[text.length] = bytes;
  return out;
}

/** A file's text, or why it cannot be read as text. */
export function decodeText(bytes: Uint8Array, maxBytes: number): TextSource | { reason: FileSkipReason; detail: string } {
  if (bytes.length > maxBytes) {
    return { reason: "too-large", detail: `larger than ${Math.round(maxBytes / 1024)} KiB (${bytes.length} bytes)` };
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { reason: "unreadable", detail: "not valid UTF-8" };
  }
  let offsets: Int32Array | null = null;
  const ascii = text.length === bytes.length;
  return {
    bytes,
    text,
    lineStarts: computeLineStarts(text),
    byteAt: ascii ? (offset) => offset : (offset) => (offsets ??= byteOffsets(text))[offset] as number,
  };
}

/**
 * Whether the bytes contain any of the words: a file that mentions none of its kind's keys has no reference, and is
 * not parsed at all (the YAML parser is most of a scan's time).
 *
 * @example
 * mentions(Buffer.from("jobs: {}"), "container", "services") // false
 */
export function mentions(content: Uint8Array, ...words: string[]): boolean {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  return words.some((w) => bytes.includes(w));
}

/** A skipped file's extraction. */
export function skippedFile(reason: FileSkipReason, detail: string): Extraction {
  return { references: [], skipped: { reason, detail } };
}

/** The text of a line (0-based), without its line break. */
function lineText(src: TextSource, line: number): string {
  const start = src.lineStarts[line] as number;
  const next = src.lineStarts[line + 1];
  let end = next ?? src.text.length;
  while (end > start && (src.text[end - 1] === "\n" || src.text[end - 1] === "\r")) end--;
  return src.text.slice(start, end);
}

/** Where a reference is spelled in the file, in character offsets. */
export interface Site {
  start: number;
  end: number;
  /** Where the rest of the line (for a trailing ignore comment) starts: after any closing quote. */
  after: number;
}

export interface ReferenceOptions {
  marker: CommentSign;
  /** The reference's text when it is not the bytes at the site (a kustomization's `newName:newTag`). */
  spelled?: string;
  /** Why the text is not a literal reference (it uses a variable of its kind), or null. */
  variable?: (text: string) => string | null;
}

/**
 * The found reference spelled at `site`: parsed, or skipped with the reason (ignore comment, variable, invalid).
 *
 * @example
 * referenceAt(src, { start: 7, end: 15, after: 15 }, { marker: "#" }) // { kind: "image", text: "alpine:3", … }
 */
export function referenceAt(src: TextSource, site: Site, options: ReferenceOptions): FoundReference {
  const text = options.spelled ?? src.text.slice(site.start, site.end);
  const line = lineAt(src.lineStarts, site.start);
  const out: FoundReference = {
    kind: "image",
    line: line + 1,
    start: src.byteAt(site.start),
    end: src.byteAt(site.end),
    text,
    reference: null,
    skip: null,
  };
  const skip = (reason: SkipReason, detail: string): FoundReference => ({ ...out, skip: reason, skipDetail: detail });
  const rest = lineText(src, line).slice(site.after - (src.lineStarts[line] as number));
  if ((line > 0 && isIgnoreLine(lineText(src, line - 1), options.marker)) || endsWithIgnore(rest, options.marker)) {
    return skip("ignored-inline", IGNORE_DETAIL);
  }
  const variable = options.variable?.(text) ?? null;
  if (variable !== null) return skip("variable", variable);
  const parsed = parseReference(text);
  if (!parsed.ok) return skip("invalid", parsed.error);
  return { ...out, reference: parsed.value };
}

/** A reference that cannot be rewritten at `site` (a multi-line scalar, escapes): reported, never edited. */
export function unrewritable(src: TextSource, site: Site, reason: SkipReason, detail: string): FoundReference {
  const line = lineAt(src.lineStarts, site.start);
  return {
    kind: "image",
    line: line + 1,
    start: src.byteAt(site.start),
    end: src.byteAt(site.end),
    text: src.text.slice(site.start, site.end),
    reference: null,
    skip: reason,
    skipDetail: detail,
  };
}
