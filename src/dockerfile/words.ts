// BuildKit's word rules, re-done with positions: each word keeps, for every character, the index in the logical line
// it came from, so that a value can be traced back to the exact bytes that spell it.

/** A word after quote and escape removal; at[i] is the logical index of value[i]. */
export interface Word {
  value: string;
  at: number[];
}

export interface Flag {
  /** Without the leading `--`. */
  name: string;
  value: Word | null;
}

/** `[\t\v\f\r ]`, BuildKit's separator between a keyword and its arguments, and between FROM arguments. */
const isTokenSpace = (c: number) => c === 32 || c === 9 || c === 11 || c === 12 || c === 13;
/** Go's unicode.IsSpace applied to a single byte, as BuildKit's flag extraction does. */
const isByteSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0;
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

const BACKSLASH = 92;
const SQUOTE = 39;
const DQUOTE = 34;
const DOLLAR = 36;

/**
 * Part of a word, positions kept.
 *
 * @example subWord({ value: "from=a", at: [0, 1, 2, 3, 4, 5] }, 5) // { value: "a", at: [5] }
 */
export function subWord(word: Word, from: number, to = word.value.length): Word {
  return { value: word.value.slice(from, to), at: word.at.slice(from, to) };
}

/**
 * The keyword (lower case) and where its arguments start.
 *
 * @example splitKeyword("FROM \talpine") // { keyword: "from", rest: 6 }
 */
export function splitKeyword(text: string): { keyword: string; rest: number } {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const start = i;
  while (i < text.length && !isTokenSpace(text.charCodeAt(i))) i++;
  const keyword = text.slice(start, i).toLowerCase();
  while (i < text.length && isTokenSpace(text.charCodeAt(i))) i++;
  return { keyword, rest: i };
}

/**
 * BuildKit's extractBuilderFlags: leading `--name[=value]` words, quotes removed, backslash escapes applied; the
 * flags end at the first word not starting with `--`, or after a bare `--`.
 *
 * @example extractFlags('COPY --from="a:1" x y', 5).flags[0]?.value?.value // "a:1"
 */
export function extractFlags(text: string, from: number): { flags: Flag[]; rest: number } {
  const words: Word[] = [];
  let chars = "";
  let at: number[] = [];
  let blankOK = false;
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = 0;
  const n = text.length;
  const finish = () => {
    if (blankOK || chars.length > 0) words.push({ value: chars, at });
    chars = "";
    at = [];
    blankOK = false;
  };
  let rest = n;
  scan: for (let pos = from; pos <= n; pos++) {
    let ch = pos < n ? text.charCodeAt(pos) : -1;
    if (phase === "spaces") {
      if (pos === n) break;
      if (isByteSpace(ch)) continue;
      if (ch !== 45 || pos + 1 === n || text.charCodeAt(pos + 1) !== 45) {
        rest = pos;
        break;
      }
      phase = "word";
    }
    if (pos === n) {
      if (chars !== "--") finish();
      break;
    }
    if (phase === "word") {
      if (isByteSpace(ch)) {
        phase = "spaces";
        if (chars === "--") {
          rest = pos;
          break scan;
        }
        finish();
        continue;
      }
      if (ch === SQUOTE || ch === DQUOTE) {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
    } else if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === BACKSLASH) {
      if (pos + 1 === n) {
        phase = "word";
        continue;
      }
      pos++;
      ch = text.charCodeAt(pos);
    }
    chars += String.fromCharCode(ch);
    at.push(pos);
  }
  const flags = words.map((word): Flag => {
    const eq = word.value.indexOf("=");
    if (eq === -1) return { name: word.value.slice(2), value: null };
    return { name: word.value.slice(2, eq), value: subWord(word, eq + 1) };
  });
  return { flags, rest };
}

/**
 * Whitespace-separated fields from `from` on, as [start, end) pairs (BuildKit's parseStringsWhitespaceDelimited).
 *
 * @example splitFields("FROM a AS b", 5) // [[5, 6], [7, 9], [10, 11]]
 */
export function splitFields(text: string, from: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = from;
  const n = text.length;
  while (i < n) {
    while (i < n && isTokenSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isTokenSpace(text.charCodeAt(i))) i++;
    out.push([start, i]);
  }
  return out;
}

/**
 * Quote-aware words, quotes kept (BuildKit's parseWords, used by ARG): [start, end) pairs.
 *
 * @example splitWords('ARG A="x y" B=1', 4, 92) // [[4, 11], [12, 15]]
 */
export function splitWords(text: string, from: number, escape: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const n = text.length;
  let i = from;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    let quote = 0;
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (quote === 0 && isSpace(ch)) break;
      if (quote === 0 && (ch === SQUOTE || ch === DQUOTE)) quote = ch;
      else if (quote !== 0 && ch === quote) quote = 0;
      if (ch === escape && quote !== SQUOTE) i++;
      i++;
    }
    out.push([start, Math.min(i, n)]);
  }
  return out;
}

export interface ShellWord extends Word {
  /** Uses `$name` or `${…}` somewhere. */
  variable: boolean;
  /** The variable's name when the whole word is exactly `$NAME` or `${NAME}`. */
  wholeVar: string | null;
  /** Why BuildKit would reject the word (an unterminated quote). */
  error: string | null;
}

const WHOLE_VAR = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$/;
const startsVariable = (c: number) =>
  c === 123 || c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * The word BuildKit's shell lexer makes of text[from, to): quotes removed, escapes applied, variables noticed.
 *
 * @example shellWord('"a:${V}"', 0, 8, 92) // { value: "a:${V}", variable: true, wholeVar: null, … }
 */
export function shellWord(text: string, from: number, to: number, escape: number): ShellWord {
  let value = "";
  const at: number[] = [];
  let variable = false;
  let error: string | null = null;
  const add = (i: number) => {
    value += text[i];
    at.push(i);
  };
  const dollar = (i: number) => {
    if (i + 1 < to && startsVariable(text.charCodeAt(i + 1))) variable = true;
    add(i);
  };
  let i = from;
  while (i < to) {
    const ch = text.charCodeAt(i);
    if (ch === SQUOTE) {
      let j = i + 1;
      while (j < to && text.charCodeAt(j) !== SQUOTE) add(j++);
      if (j >= to) error = "unterminated single quote";
      i = j + 1;
    } else if (ch === DQUOTE) {
      let j = i + 1;
      for (;;) {
        if (j >= to) {
          error = "unterminated double quote";
          break;
        }
        const c = text.charCodeAt(j);
        if (c === DQUOTE) {
          j++;
          break;
        }
        if (c === DOLLAR) dollar(j++);
        else if (c === escape && j + 1 < to && [DQUOTE, DOLLAR, escape].includes(text.charCodeAt(j + 1))) {
          add(j + 1);
          j += 2;
        } else add(j++);
      }
      i = j;
    } else if (ch === DOLLAR) {
      dollar(i++);
    } else if (ch === escape) {
      if (i + 1 < to) add(i + 1);
      i += 2;
    } else {
      add(i++);
    }
  }
  const m = variable ? WHOLE_VAR.exec(value) : null;
  return { value, at, variable, wholeVar: m ? (m[1] ?? m[2] ?? null) : null, error };
}

/**
 * Whether a flag value (already unquoted) uses a variable.
 *
 * @example flagValueVariable("${IMG}") // { variable: true, wholeVar: "IMG" }
 */
export function flagValueVariable(value: string): { variable: boolean; wholeVar: string | null } {
  for (let i = 0; i < value.length - 1; i++) {
    if (value.charCodeAt(i) === DOLLAR && startsVariable(value.charCodeAt(i + 1))) {
      const m = WHOLE_VAR.exec(value);
      return { variable: true, wholeVar: m ? (m[1] ?? m[2] ?? null) : null };
    }
  }
  return { variable: false, wholeVar: null };
}

/**
 * Split a word at a separator, keeping positions (the fields of a `--mount` value).
 *
 * @example splitWord(word, ",").map((w) => w.value) // ["type=bind", "from=a:1", "target=/x"]
 */
export function splitWord(word: Word, separator: string): Word[] {
  const out: Word[] = [];
  let start = 0;
  for (;;) {
    const at = word.value.indexOf(separator, start);
    if (at === -1) {
      out.push(subWord(word, start));
      return out;
    }
    out.push(subWord(word, start, at));
    start = at + separator.length;
  }
}
