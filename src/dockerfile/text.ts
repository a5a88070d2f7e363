// The text model the scanner works on: bytes decoded as latin1 (one char per byte, so offsets are byte offsets),
// lines split the way dockerfile-ast splits them (CRLF, LF and a lone CR each end a line).

const BOM = [0xef, 0xbb, 0xbf];

export interface Source {
  /** The file without its UTF-8 BOM, decoded as latin1. */
  text: string;
  /** Bytes stripped from the front (3 with a BOM): add to an offset into `text` to get a file offset. */
  base: number;
  /** Offset of the first character of every line. */
  lineStarts: number[];
}

export function hasBom(content: Uint8Array): boolean {
  return content.length >= 3 && content[0] === BOM[0] && content[1] === BOM[1] && content[2] === BOM[2];
}

export function toSource(content: Uint8Array): Source {
  const base = hasBom(content) ? 3 : 0;
  const bytes = Buffer.from(content.buffer, content.byteOffset + base, content.byteLength - base);
  const text = bytes.toString("latin1");
  return { text, base, lineStarts: computeLineStarts(text) };
}

/** Line starts as vscode-languageserver-textdocument computes them (dockerfile-ast positions refer to these). */
export function computeLineStarts(text: string): number[] {
  const starts = [0];
  if (!text.includes("\r")) {
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) starts.push(at + 1);
    return starts;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** 0-based line containing `offset`. */
export function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Offset just past the content of `line` (before its line terminator). */
export function lineContentEnd(src: Source, line: number): number {
  const next = src.lineStarts[line + 1];
  if (next === undefined) return src.text.length;
  const text = src.text;
  if (text.charCodeAt(next - 1) === 10 && text.charCodeAt(next - 2) === 13 && next - 2 >= (src.lineStarts[line] as number)) {
    return next - 2;
  }
  return next - 1;
}

/** The file offset of a dockerfile-ast position. */
export function offsetOf(src: Source, line: number, character: number): number {
  const start = src.lineStarts[line];
  return start === undefined ? src.text.length : Math.min(start + character, src.text.length);
}

/** Bytes of the original file as UTF-8 text (for display). */
export function utf8Slice(content: Uint8Array, start: number, end: number): string {
  return Buffer.from(content.buffer, content.byteOffset + start, end - start).toString("utf8");
}
