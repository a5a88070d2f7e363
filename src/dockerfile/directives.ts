// Parser directives as BuildKit reads them. Two readers, because BuildKit has two:
// - the Dockerfile parser (escape): lines at the top, leading white space allowed, `#` then `key = value`;
// - DetectSyntax (syntax, used to pick the frontend): the same, but `#` must be in column 0 and a first `#!` line
//   is skipped.
// Only `syntax`, `escape` and `check` are directives (keys case-insensitive); any other line, a comment, a blank line
// or an instruction ends the section, and a repeated key is an error (the directives before it still count).

import { lineContentEnd, type Source } from "./text.js";

const KEYS = new Set(["syntax", "escape", "check"]);
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

interface DirectiveLine {
  key: string;
  /** [start, end) of the value in the source text, white space trimmed. */
  start: number;
  end: number;
}

function parseLine(text: string, from: number, to: number, leadingSpace: boolean): DirectiveLine | null {
  let i = from;
  if (leadingSpace) while (i < to && isSpace(text.charCodeAt(i))) i++;
  if (text[i] !== "#") return null;
  i++;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  const keyStart = i;
  if (!/[A-Za-z]/.test(text[i] ?? "")) return null;
  while (i < to && /[A-Za-z0-9]/.test(text[i] as string)) i++;
  const key = text.slice(keyStart, i).toLowerCase();
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  if (text[i] !== "=") return null;
  i++;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  let end = to;
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  if (end === i || !KEYS.has(key)) return null;
  return { key, start: i, end };
}

function readDirectives(src: Source, firstLine: number, leadingSpace: boolean): { lines: DirectiveLine[]; count: number } {
  const lines: DirectiveLine[] = [];
  const seen = new Set<string>();
  let line = firstLine;
  for (; line < src.lineStarts.length; line++) {
    const d = parseLine(src.text, src.lineStarts[line] as number, lineContentEnd(src, line), leadingSpace);
    if (d === null || seen.has(d.key)) break;
    seen.add(d.key);
    lines.push(d);
  }
  return { lines, count: line };
}

export interface Directives {
  /** Escape character code (`\` or `` ` ``). */
  escape: number;
  /** Lines at the top that the parser takes as directives (the first line after them is not one). */
  lineCount: number;
  /** The image part of `# syntax=` (the value up to its first space), when BuildKit would use it. */
  syntax: { start: number; end: number } | null;
}

/**
 * The parser directives at the top of a Dockerfile, read twice as BuildKit does (see the top of this file).
 *
 * @example readParserDirectives(toSource(Buffer.from("# escape=`\nFROM a\n"))).escape // 96
 */
export function readParserDirectives(src: Source): Directives {
  const parser = readDirectives(src, 0, true);
  let escape = 92;
  const esc = parser.lines.find((d) => d.key === "escape");
  if (esc) {
    const value = src.text.slice(esc.start, esc.end);
    if (value === "`") escape = 96;
  }
  const shebang = src.text.startsWith("#!") ? 1 : 0;
  const detect = readDirectives(src, shebang, false);
  const syntax = detect.lines.find((d) => d.key === "syntax");
  let syntaxRange: Directives["syntax"] = null;
  if (syntax) {
    const space = src.text.indexOf(" ", syntax.start);
    syntaxRange = { start: syntax.start, end: space === -1 || space > syntax.end ? syntax.end : space };
  }
  return { escape, lineCount: parser.count, syntax: syntaxRange };
}
