// The text model the scanner works on: bytes decoded as latin1 (one char per byte, so offsets are byte offsets).
// Lines end at LF, CRLF and at a lone CR. BuildKit splits at LF only and trims trailing CRs, so for it a lone CR in
// the middle of a line is white space inside one line (`[\t\v\f\r ]` separates words). digest-pin ends the line
// there, as editors, dockerfile-ast and people reading the file do: line numbers are the ones a reader sees, and an
// ignore comment "on the line above" is the line above on screen. A file that relies on a lone CR to join two
// instructions is not one BuildKit builds (`FROM a\rFROM b` is a FROM with three arguments, an error), so the two
// readings disagree only on files that do not build, or on text inside a RUN that holds a lone CR.

const BOM = [0xef, 0xbb, 0xbf];

export interface Source {
  /** The file without its UTF-8 BOM, decoded as latin1. */
  text: string;
  /** Bytes stripped from the front (3 with a BOM): add to an offset into `text` to get a file offset. */
  base: number;
  /** Offset of the first character of every line. */
  lineStarts: number[];
}

/**
 * Whether the bytes start with the UTF-8 byte order mark.
 *
 * @example hasBom(Buffer.from("\uFEFFFROM a")) // true
 */
export function hasBom(content: Uint8Array): boolean {
  return content.length >= 3 && content[0] === BOM[0] && content[1] === BOM[1] && content[2] === BOM[2];
}

/**
 * The scanner's view of a file: latin1 text without the BOM, and where each line starts.
 *
 * @example toSource(Buffer.from("\uFEFFFROM a\n")).base // 3
 */
export function toSource(content: Uint8Array): Source {
  const base = hasBom(content) ? 3 : 0;
  const bytes = Buffer.from(content.buffer, content.byteOffset + base, content.byteLength - base);
  const text = bytes.toString("latin1");
  return { text, base, lineStarts: computeLineStarts(text) };
}

/**
 * Offsets of the first character of every line: after each LF, CRLF and lone CR.
 *
 * @example computeLineStarts("a\r\nb\rc\n") // [0, 3, 5, 7]
 */
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

/**
 * 0-based line containing `offset`.
 *
 * @example lineAt([0, 7, 12], 9) // 1
 */
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

/**
 * Offset just past the content of `line` (before its line terminator).
 *
 * @example lineContentEnd(toSource(Buffer.from("FROM a\r\nRUN b")), 0) // 6
 */
export function lineContentEnd(src: Source, line: number): number {
  const next = src.lineStarts[line + 1];
  if (next === undefined) return src.text.length;
  const text = src.text;
  if (text.charCodeAt(next - 1) === 10 && text.charCodeAt(next - 2) === 13 && next - 2 >= (src.lineStarts[line] as number)) {
    return next - 2;
  }
  return next - 1;
}

/**
 * The length of the white space character at `i` as Go's unicode.IsSpace reads UTF-8 (BuildKit trims lines and tells
 * empty and comment lines with it): 1 for ASCII white space, 2 or 3 for U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000, 0 for anything else (invalid UTF-8 included).
 *
 * @example spaceAt("\u00c2\u00a0FROM", 0) // 2: the latin1 reading of a UTF-8 no-break space
 */
export function spaceAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 32 || (c >= 9 && c <= 13)) return 1;
  if (c < 0xc2 || c > 0xe3) return 0;
  const c1 = text.charCodeAt(i + 1);
  if (c === 0xc2) return c1 === 0x85 || c1 === 0xa0 ? 2 : 0;
  const c2 = text.charCodeAt(i + 2);
  if (c === 0xe1) return c1 === 0x9a && c2 === 0x80 ? 3 : 0;
  if (c === 0xe3) return c1 === 0x80 && c2 === 0x80 ? 3 : 0;
  if (c !== 0xe2) return 0;
  if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
  return c1 === 0x81 && c2 === 0x9f ? 3 : 0;
}

/**
 * The first offset in [from, to) that is not white space (spaceAt), or `to`.
 *
 * @example skipSpace(" \tFROM", 0, 6) // 2
 */
export function skipSpace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const n = spaceAt(text, i);
    if (n === 0 || i + n > to) return i;
    i += n;
  }
  return to;
}

/**
 * Bytes of the original file as UTF-8 text (for display).
 *
 * @example utf8Slice(Buffer.from("FROM pythön:3"), 5, 14) // "pythön:3" (ö is two bytes)
 */
export function utf8Slice(content: Uint8Array, start: number, end: number): string {
  return Buffer.from(content.buffer, content.byteOffset + start, end - start).toString("utf8");
}
