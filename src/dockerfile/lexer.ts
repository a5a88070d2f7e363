// The instructions of a Dockerfile as BuildKit's parser reads them (frontend/dockerfile/parser/parser.go, Parse),
// each with its logical line and exact source offsets:
// - a line that is empty or only white space (Go's unicode.IsSpace), or whose first other character is `#`, is no
//   instruction: comments, and the parser directives at the top, which only set the escape character (directives.ts);
// - an instruction starts at the first other character of its line and goes on while the line ends, after spaces and
//   tabs, with an unescaped escape character (logical.ts); inside such a continuation, comment lines and empty lines
//   are dropped (BuildKit warns about the empty ones), and a line with only the escape character continues too;
// - after the logical line of RUN, COPY or ADD (also under ONBUILD) come the bodies of its heredocs, in order, each up
//   to the line that is exactly its name (`<<-`: after leading tabs); a body that never ends takes the rest of the
//   file (BuildKit refuses such a file) and is never read as instructions.
// Lines end at LF, CRLF and a lone CR (text.ts says why). The BOM is gone before this (text.ts).

import { heredocsOf } from "./heredoc.js";
import { continuationAt, SegmentedLine, type Logical } from "./logical.js";
import { lineContentEnd, skipSpace, type Source } from "./text.js";
import { splitKeyword } from "./words.js";

export interface Instruction {
  /** The keyword as BuildKit's splitCommand reads it (the first word of the logical line), lower case. */
  keyword: string;
  /** Offset in the source text of the instruction's first character. */
  start: number;
  /** Offset just past the content of its last line (heredoc bodies and their terminators included). */
  end: number;
  /** 0-based first and last line. */
  firstLine: number;
  lastLine: number;
  logical: Logical;
}

const HASH = 35;
const TAB = 9;
const HEREDOC_HOSTS = new Set(["run", "copy", "add", "onbuild"]);

/** A line that BuildKit skips inside a continuation (and between instructions): empty, white space, or a comment. */
function isSkipped(text: string, from: number, to: number): boolean {
  const i = skipSpace(text, from, to);
  return i === to || text.charCodeAt(i) === HASH;
}

/** The line that ends a heredoc body, from `line` on: its 0-based index, or -1 when the body runs to the end. */
function heredocEnd(src: Source, line: number, name: string, chomp: boolean): number {
  const text = src.text;
  const count = src.lineStarts.length;
  for (; line < count; line++) {
    let from = src.lineStarts[line] as number;
    const to = lineContentEnd(src, line);
    if (chomp) while (from < to && text.charCodeAt(from) === TAB) from++;
    if (to - from === name.length && text.startsWith(name, from)) return line;
  }
  return -1;
}

/**
 * The instructions of a Dockerfile, in order, as BuildKit splits them.
 *
 * @example
 * const src = toSource(Buffer.from("FROM a \\\n  # note\n  AS b\nRUN <<EOF\nFROM c\nEOF\n"));
 * lexDockerfile(src, 92).map((i) => [i.keyword, i.logical.text]) // [["from", "FROM a   AS b"], ["run", "RUN <<EOF"]]
 */
export function lexDockerfile(src: Source, escape: number): Instruction[] {
  const text = src.text;
  const count = src.lineStarts.length;
  const out: Instruction[] = [];
  for (let line = 0; line < count; line++) {
    const lineStart = src.lineStarts[line] as number;
    let end = lineContentEnd(src, line);
    const start = skipSpace(text, lineStart, end);
    if (start === end || text.charCodeAt(start) === HASH) continue;
    const firstLine = line;
    const segments: number[] = [];
    let k = continuationAt(text, start, end, escape);
    segments.push(start, k === -1 ? end : k);
    while (k !== -1 && line + 1 < count) {
      line++;
      const from = src.lineStarts[line] as number;
      end = lineContentEnd(src, line);
      if (isSkipped(text, from, end)) continue;
      k = continuationAt(text, from, end, escape);
      segments.push(from, k === -1 ? end : k);
    }
    const logical = new SegmentedLine(text, segments);
    const keyword = splitKeyword(logical.text).keyword;
    if (HEREDOC_HOSTS.has(keyword)) {
      for (const heredoc of heredocsOf(logical.text)) {
        const last = heredocEnd(src, line + 1, heredoc.name, heredoc.chomp);
        line = last === -1 ? count - 1 : last;
        end = lineContentEnd(src, line);
        if (last === -1) break;
      }
    }
    out.push({ keyword, start, end, firstLine, lastLine: line, logical });
  }
  return out;
}
