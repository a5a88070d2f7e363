// An instruction as BuildKit reads it: its physical lines joined at line continuations (the escape character and the
// blanks after it removed), comment and empty lines inside the continuation dropped, and for every remaining character
// the offset in the source it came from.

export interface Logical {
  readonly text: string;
  /** pos[i] is the offset in the source text of text[i]. */
  readonly pos: Int32Array;
}

/**
 * BuildKit's continuation rule (its lineContinuationRegex): the line ends, after spaces and tabs, with the escape
 * character, and that character is the first of the line or not preceded by another escape (`foo \\` does not
 * continue, `foo \ \` does). Returns the escape's offset, or -1 when the line does not continue.
 *
 * @example continuationAt("RUN a \\", 0, 7, 92) // 6
 */
export function continuationAt(text: string, from: number, end: number, escape: number): number {
  let k = end - 1;
  while (k >= from && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k--;
  if (k < from || text.charCodeAt(k) !== escape) return -1;
  return k === from || text.charCodeAt(k - 1) !== escape ? k : -1;
}

/**
 * A logical line made of source ranges: the text at once, the offsets only when asked for (most instructions are
 * never read past their keyword).
 *
 * @example new SegmentedLine("RUN a \\\n b", [0, 6, 8, 10]).text // "RUN a  b"
 */
export class SegmentedLine implements Logical {
  readonly text: string;
  #pos: Int32Array | null = null;

  /** `segments` holds [start, end) pairs of source offsets, in order. */
  constructor(
    source: string,
    private readonly segments: readonly number[],
  ) {
    let text = "";
    for (let s = 0; s < segments.length; s += 2) text += source.slice(segments[s], segments[s + 1]);
    this.text = text;
  }

  get pos(): Int32Array {
    if (this.#pos === null) {
      const pos = new Int32Array(this.text.length);
      let n = 0;
      for (let s = 0; s < this.segments.length; s += 2) {
        const end = this.segments[s + 1] as number;
        for (let i = this.segments[s] as number; i < end; i++) pos[n++] = i;
      }
      this.#pos = pos;
    }
    return this.#pos;
  }
}
