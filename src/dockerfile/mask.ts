// The text handed to dockerfile-ast: the source with a few same-length changes so that it splits instructions where
// BuildKit does. Offsets stay valid; nothing here is ever written back.

import type { Directives } from "./directives.js";
import type { HeredocWord } from "./heredoc.js";
import type { Logical } from "./logical.js";
import { lineContentEnd, type Source } from "./text.js";

function replaceAt(text: string, changes: ReadonlyMap<number, string>): string {
  if (changes.size === 0) return text;
  const positions = [...changes.keys()].sort((a, b) => a - b);
  let out = "";
  let last = 0;
  for (const p of positions) {
    const s = changes.get(p) as string;
    out += text.slice(last, p) + s;
    last = p + s.length;
  }
  return out + text.slice(last);
}

/** BuildKit refuses lines longer than 64 KiB; dockerfile-ast would split such a line into a word per space. */
const LONG_LINE = 65_536;
const LONG_LINE_KEEP = 4_096;

/**
 * Fixes applied before the first parse:
 * - dockerfile-ast takes any `# key=value` line at the top for a directive; BuildKit stops at the first line that is
 *   not `syntax`, `escape` or `check`. Removing the `=` of that line makes dockerfile-ast stop there too (it is a
 *   comment either way).
 * - dockerfile-ast continues a line that ends with an escaped escape (`\\`); BuildKit does not. The last escape
 *   becomes `_`.
 * - dockerfile-ast does not continue a line that ends with `\ \` (an escaped space, then the continuation); BuildKit
 *   does. The first escape becomes `_`.
 * - In the middle of a line over 64 KiB, blanks become `_`, so that dockerfile-ast (which costs per word) stays fast.
 */
export function initialMask(src: Source, directives: Directives): string {
  const text = src.text;
  const changes = new Map<number, string>();
  const stop = directives.lineCount;
  if (stop < src.lineStarts.length) {
    const from = src.lineStarts[stop] as number;
    const line = text.slice(from, lineContentEnd(src, stop));
    if (line.trimStart().startsWith("#")) {
      for (let i = line.indexOf("="); i !== -1; i = line.indexOf("=", i + 1)) changes.set(from + i, " ");
    }
  }
  const esc = String.fromCharCode(directives.escape);
  const hasEscape = text.includes(esc);
  const blank = (c: string | undefined) => c === " " || c === "\t";
  for (let line = 0; line < src.lineStarts.length; line++) {
    const start = src.lineStarts[line] as number;
    const end = lineContentEnd(src, line);
    if (end - start > LONG_LINE && line !== stop) {
      const middle = text.slice(start + LONG_LINE_KEEP, end - LONG_LINE_KEEP);
      changes.set(start + LONG_LINE_KEEP, middle.replace(/[ \t]/g, "_"));
    }
    if (!hasEscape) continue;
    let k = end - 1;
    while (k > start && blank(text[k])) k--;
    if (k <= start || text[k] !== esc) continue;
    if (text[k - 1] === esc) {
      changes.set(k, "_");
      continue;
    }
    let j = k - 1;
    while (j > start && blank(text[j])) j--;
    if (j < k - 1 && text[j] === esc) changes.set(j, "_");
  }
  return replaceAt(text, changes);
}

/**
 * Make dockerfile-ast see exactly BuildKit's heredocs on one instruction: every heredoc word is rewritten to the plain
 * `<<NAME` form (padded with spaces), and every other `<` on the line becomes `_`. Returns null when a heredoc cannot
 * be expressed that way (a name with spaces or one split by a continuation).
 */
export function heredocMask(masked: string, logical: Logical, heredocs: readonly HeredocWord[]): string | null {
  const changes = new Map<number, string>();
  const inHeredoc = new Uint8Array(logical.text.length);
  for (const h of heredocs) {
    const first = logical.pos[h.start] as number;
    const last = logical.pos[h.end - 1] as number;
    if (last - first !== h.end - 1 - h.start || /[\s"'\\`<]/.test(h.name)) return null;
    const plain = `<<${h.chomp ? "-" : ""}${h.name}`;
    if (plain.length > h.end - h.start) return null;
    changes.set(first, plain.padEnd(h.end - h.start, " "));
    inHeredoc.fill(1, h.start, h.end);
  }
  for (let i = logical.text.indexOf("<"); i !== -1; i = logical.text.indexOf("<", i + 1)) {
    if (!inHeredoc[i]) changes.set(logical.pos[i] as number, "_");
  }
  return replaceAt(masked, changes);
}
