// Inline exclusions: a comment `# digest-pin: ignore` (`// digest-pin: ignore` in JSONC) on the line just before a
// reference, or at the end of the line the reference is on, leaves that reference alone. A pure step after any
// scanner: file bytes + the references found in them → the same references, the excluded ones marked skipped.
// It is one step for every file kind, so the CLI and the app (which both call it through engine.ts's scanFile) and
// every manager read the comment the same way.

import { computeLineStarts, lineAt } from "./dockerfile/text.js";
import type { FoundReference, SkipReason } from "./dockerfile/types.js";

/** The skip reason of a reference excluded by an inline comment. */
export const INLINE_IGNORE_REASON = "ignored-inline" satisfies SkipReason;

/** What follows the comment sign: `digest-pin: ignore` (spaces optional), then anything, e.g. a reason. */
export const INLINE_IGNORE_DIRECTIVE = "digest-pin: ignore";

/** How a file kind writes comments: `#` (Dockerfile, YAML, shell) or `//` (JSONC, e.g. devcontainer.json). */
export type CommentSign = "#" | "//";

const MARKER = String.raw`digest-pin:\s*ignore(?![\w-])`;
/** `#` for `#`, `\/\/` for `//`. */
const escaped = (sign: CommentSign) => sign.replace(/\//g, "\\/");

/** A whole line that is the comment (leading space allowed; a BOM is removed before this is tried). */
const ownLine: Record<CommentSign, RegExp> = {
  "#": new RegExp(String.raw`^[ \t]*${escaped("#")}[ \t]*${MARKER}`),
  "//": new RegExp(String.raw`^[ \t]*${escaped("//")}[ \t]*${MARKER}`),
};
/** The comment after a reference on its line: after a space, a quote or a comma (a closing `"image": "…",`). */
const trailing: Record<CommentSign, RegExp> = {
  "#": new RegExp(String.raw`[ \t"',]${escaped("#")}[ \t]*${MARKER}`, "g"),
  "//": new RegExp(String.raw`[ \t"',]${escaped("//")}[ \t]*${MARKER}`, "g"),
};

const BOM = "\u00ef\u00bb\u00bf"; // UTF-8 BOM bytes read as latin1

/** What a reference skipped by the comment says, where a manager marks it while extracting. */
export const IGNORE_DETAIL = `a ${INLINE_IGNORE_DIRECTIVE} comment`;

/**
 * Whether `line` (without its line break) is an ignore comment for the next line: the same rule as
 * applyInlineIgnores, for managers that mark references while they extract them.
 *
 * @example
 * isIgnoreLine("  # digest-pin: ignore (tracks nightly on purpose)", "#") // true
 */
export function isIgnoreLine(line: string, sign: CommentSign): boolean {
  return ownLine[sign].test(line);
}

/**
 * Whether the rest of a reference's line (from just after the reference) holds an ignore comment.
 *
 * @example
 * endsWithIgnore('" # digest-pin: ignore', "#") // true
 */
export function endsWithIgnore(rest: string, sign: CommentSign): boolean {
  const re = trailing[sign];
  re.lastIndex = 0;
  // The rest starts right after the reference: a comment sign there counts as if a space came before it.
  return re.test(` ${rest}`);
}

/** A line's text without its terminator. */
const lineText = (text: string, from: number, to: number) => text.slice(from, to).replace(/[\r\n]+$/, "");

/**
 * The references with those excluded by an inline `digest-pin: ignore` comment marked skipped (reason
 * `ignored-inline`, whatever they were before: the comment is the author's explicit word). The comment counts on the
 * line right above the line where the reference's text starts, or after the reference on the line where it ends.
 * In a Dockerfile use the line above (Docker would read text after an instruction as more arguments); for a global
 * ARG default, above the ARG line. Other references and their order are unchanged.
 *
 * @example
 * const bytes = Buffer.from("# digest-pin: ignore\nFROM alpine:3.20\n");
 * applyInlineIgnores(bytes, scanDockerfile(bytes), "#")[0].skip // "ignored-inline"
 */
export function applyInlineIgnores(
  content: Uint8Array,
  references: readonly FoundReference[],
  sign: CommentSign,
): FoundReference[] {
  if (references.length === 0) return [];
  // latin1: one character a byte, so offsets are the references' byte offsets; the directive is ASCII. Lines end at
  // LF, CRLF or a lone CR, as BuildKit (dockerfile-ast) and YAML read them: "the line above" is what a person sees.
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("latin1");
  const starts = computeLineStarts(text);
  const lineEnd = (line: number) => starts[line + 1] ?? text.length;
  // Each line is read once however many references share it (a long YAML flow sequence may hold thousands).
  const commentLine = new Map<number, boolean>();
  /** Per line, where its last trailing marker starts (-1: none): a reference ending before it is excluded. */
  const lastMarker = new Map<number, number>();
  const isComment = (line: number) => {
    let yes = commentLine.get(line);
    if (yes === undefined) {
      let body = lineText(text, starts[line] as number, lineEnd(line));
      if (line === 0 && body.startsWith(BOM)) body = body.slice(BOM.length);
      commentLine.set(line, (yes = ownLine[sign].test(body)));
    }
    return yes;
  };
  const markerOn = (line: number) => {
    let at = lastMarker.get(line);
    if (at === undefined) {
      const from = starts[line] as number;
      at = -1;
      for (const m of lineText(text, from, lineEnd(line)).matchAll(trailing[sign])) at = from + m.index;
      lastMarker.set(line, at);
    }
    return at;
  };
  return references.map((found) => {
    const line = lineAt(starts, found.start);
    let detail: string | null = null;
    if (line > 0 && isComment(line - 1)) detail = `"${sign} ${INLINE_IGNORE_DIRECTIVE}" on the line above`;
    // A marker that starts after the reference's last byte, on the line where it ends.
    else if (markerOn(lineAt(starts, Math.max(found.start, found.end - 1))) >= found.end) {
      detail = `"${sign} ${INLINE_IGNORE_DIRECTIVE}" at the end of the line`;
    }
    if (detail === null) return found;
    return { ...found, skip: INLINE_IGNORE_REASON, skipDetail: detail };
  });
}
