// An instruction as BuildKit reads it: the physical lines joined at line continuations, with comment lines and
// blank lines inside the continuation dropped, and the source offset of every remaining character kept.

import { lineAt, lineContentEnd, type Source } from "./text.js";

export interface Logical {
  text: string;
  /** pos[i] is the offset in the source text of text[i]. */
  pos: Int32Array;
}

const isBlank = (c: number) => c === 32 || c === 9 || c === 11 || c === 12;

/**
 * BuildKit's continuation rule: the line ends, after spaces and tabs, with the escape character, and that character
 * is not itself escaped (`foo \\` does not continue, whatever dockerfile-ast thinks).
 */
export function continuationAt(text: string, from: number, end: number, escape: number): number {
  let k = end - 1;
  while (k >= from && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k--;
  if (k < from || text.charCodeAt(k) !== escape) return -1;
  return k === from || text.charCodeAt(k - 1) !== escape ? k : -1;
}

/** The logical line of the instruction that starts at `start` (its first non-blank character). */
export function logicalLine(src: Source, start: number, escape: number): Logical {
  const text = src.text;
  const segments: number[] = [];
  let total = 0;
  let line = lineAt(src.lineStarts, start);
  let from = start;
  for (let first = true; ; first = false) {
    const end = lineContentEnd(src, line);
    let skip = false;
    if (!first) {
      let j = from;
      while (j < end && isBlank(text.charCodeAt(j))) j++;
      skip = j === end || text.charCodeAt(j) === 35; // blank or comment line inside a continuation
    }
    if (!skip) {
      const k = continuationAt(text, from, end, escape);
      const to = k === -1 ? end : k;
      segments.push(from, to);
      total += to - from;
      if (k === -1) break;
    }
    line++;
    const next = src.lineStarts[line];
    if (next === undefined) break;
    from = next;
  }
  const pos = new Int32Array(total);
  let out = "";
  let n = 0;
  for (let s = 0; s < segments.length; s += 2) {
    const a = segments[s] as number;
    const b = segments[s + 1] as number;
    out += text.slice(a, b);
    for (let i = a; i < b; i++) pos[n++] = i;
  }
  return { text: out, pos };
}
