// Which heredocs BuildKit opens on an instruction's logical line (parser.go heredocsFromLine and ParseHeredoc): the
// line is split into words by BuildKit's shell lexer (shell/lex.go) with quotes and escapes kept and unset variables
// left as written, and every word of the form `[fd]<<[-][blanks]NAME` opens one heredoc, NAME being what the same
// lexer makes of the rest when it is exactly one word. Since dockerfile frontend 1.16, blanks may follow `<<`
// (`RUN cat << EOF`). Only RUN, COPY and ADD (also under ONBUILD) have heredocs, and not in their JSON form.
//
// The lexer is re-done here rule for rule, quirks included: a `${NAME<op>word}` inside a word empties the word read so
// far (the lexer's word buffer is shared with the nested call), and any lexing error means no heredocs at all on the
// line. White space here is ASCII only (BuildKit also splits at U+0085 and U+00A0, which no heredoc word needs).

import { extractFlags, splitKeyword } from "./words.js";

export interface HeredocWord {
  name: string;
  /** `<<-`: leading tabs are stripped from the body and from the terminator line. */
  chomp: boolean;
}

const EOF = -1;
const BACKSLASH = 92;
const SQUOTE = 39;
const DQUOTE = 34;
const DOLLAR = 36;
const LT = 60;
const LBRACE = 123;
const RBRACE = 125;
const COLON = 58;
const SLASH = 47;
/** `${A:-${A:-…}}` nests: BuildKit recurses without bound, digest-pin gives up (no heredocs) past this depth. */
const MAX_DEPTH = 500;

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameChar = (c: number) => isDigit(c) || c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128;
const SPECIAL_PARAMS = new Set([64, 42, 35, 63, 45, DOLLAR, 33, 48]); // @ * # ? - $ ! 0

class LexError extends Error {}

/** BuildKit's ProcessWords with SkipUnsetEnv, no variables set and `\` as the escape; `raw`: RawQuotes and RawEscapes. */
class WordLexer {
  pos = 0;
  /** The word being built: one buffer for every nesting level, as in BuildKit. */
  buf = "";
  depth = 0;
  rawEscapes: boolean;

  constructor(
    readonly s: string,
    readonly rawQuotes: boolean,
  ) {
    this.rawEscapes = rawQuotes;
  }

  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : EOF;
  }

  next(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos++) : EOF;
  }

  /** processStopOn: the text up to `stop` (EOF: the whole input) and the words it splits into. */
  stopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    if (++this.depth > MAX_DEPTH) throw new LexError("nested too deep");
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    this.buf = "";
    const words: string[] = [];
    let inWord = false;
    const flush = () => {
      if (this.buf.length > 0) words.push(this.buf);
      this.buf = "";
      inWord = false;
    };
    const addChar = (c: number) => {
      if (!isSpace(c)) {
        this.buf += String.fromCharCode(c);
        inWord = true;
      } else if (inWord && this.buf.length > 0) flush();
    };
    let result = "";
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) break;
      if (stop !== EOF && ch === stop) {
        this.next();
        flush();
        this.rawEscapes = saved;
        this.depth--;
        return { result, words };
      }
      if (ch === DOLLAR || ch === LT || ch === SQUOTE || ch === DQUOTE) {
        const tmp = ch === DOLLAR ? this.dollar() : ch === LT ? this.heredocStart() : this.quoted(ch);
        result += tmp;
        if (ch === DOLLAR) for (let i = 0; i < tmp.length; i++) addChar(tmp.charCodeAt(i));
        else {
          this.buf += tmp;
          inWord = true;
        }
        continue;
      }
      let c = this.next();
      if (c === BACKSLASH) {
        if (this.rawEscapes) {
          this.buf += "\\";
          result += "\\";
        }
        c = this.next();
        if (c === EOF) break;
        this.buf += String.fromCharCode(c);
        inWord = true;
      } else addChar(c);
      result += String.fromCharCode(c);
    }
    if (stop !== EOF) throw new LexError("unexpected end of statement");
    flush();
    this.rawEscapes = saved;
    this.depth--;
    return { result, words };
  }

  /** processPossibleHeredoc: `<<` takes the blanks after it into its word. */
  heredocStart(): string {
    this.next();
    if (this.peek() !== LT) return "<";
    this.next();
    let out = "<<";
    for (let c = this.peek(); c === 9 || c === 13 || c === 32; c = this.peek()) out += String.fromCharCode(this.next());
    return out;
  }

  quoted(quote: number): string {
    const q = String.fromCharCode(quote);
    this.next();
    let out = this.rawQuotes ? q : "";
    for (;;) {
      const c = this.peek();
      if (c === EOF) throw new LexError("unterminated quote");
      if (c === quote) {
        this.next();
        return this.rawQuotes ? out + q : out;
      }
      if (quote === DQUOTE && c === DOLLAR) {
        out += this.dollar();
        continue;
      }
      let ch = this.next();
      if (quote === DQUOTE && ch === BACKSLASH) {
        if (this.rawEscapes) out += "\\";
        const after = this.peek();
        if (after === EOF) continue;
        if (after === DQUOTE || after === DOLLAR || after === BACKSLASH) ch = this.next();
      }
      out += String.fromCharCode(ch);
    }
  }

  name(): string {
    const start = this.pos;
    const first = this.peek();
    if (first !== EOF && isDigit(first)) {
      while (isDigit(this.peek())) this.next();
    } else if (SPECIAL_PARAMS.has(first)) {
      this.next();
    } else {
      while (this.peek() !== EOF && isNameChar(this.peek())) this.next();
    }
    return this.s.slice(start, this.pos);
  }

  /** processDollar with no variable set: the expansion as written (modifier words lexed). */
  dollar(): string {
    this.next();
    if (this.peek() !== LBRACE) return `$${this.name()}`;
    this.next();
    const first = this.peek();
    if (first === EOF || first === LBRACE || first === RBRACE || first === COLON) throw new LexError("bad substitution");
    const name = this.name();
    let ch = this.next();
    if (ch === RBRACE) return `\${${name}}`;
    let chs = ch === EOF ? "" : String.fromCharCode(ch);
    const nullIsUnset = ch === COLON;
    if (nullIsUnset) {
      ch = this.next();
      chs += ch === EOF ? "" : String.fromCharCode(ch);
    }
    if (nullIsUnset || ch === 43 || ch === 45 || ch === 63 || ch === 35 || ch === 37) {
      const rawEscapes = ch === 35 || ch === 37;
      if (nullIsUnset && rawEscapes) throw new LexError("unsupported modifier");
      return `\${${name}${chs}${this.stopOn(RBRACE, rawEscapes).result}}`;
    }
    if (ch !== SLASH) throw new LexError("unsupported modifier");
    if (this.peek() === SLASH) this.next();
    const pattern = this.stopOn(SLASH, true).result;
    return `\${${name}/${pattern}/${this.stopOn(RBRACE, true).result}}`;
  }
}

/** The words of `s` as BuildKit's shell lexer splits them, or null where it fails (then BuildKit sees no heredocs). */
function lexWords(s: string, raw: boolean): string[] | null {
  try {
    return new WordLexer(s, raw).stopOn(EOF, raw).words;
  } catch (error) {
    if (error instanceof LexError) return null;
    throw error;
  }
}

/** reHeredoc; `\s` is Go's: [\t\n\f\r ]. */
const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * The heredocs BuildKit opens on this logical line, in order (the caller checks the instruction may have them).
 *
 * @example buildkitHeredocs("RUN cat <<-A 3<<'B'") // [{ name: "A", chomp: true }, { name: "B", chomp: false }]
 */
export function buildkitHeredocs(text: string): HeredocWord[] {
  const words = lexWords(text, true);
  if (words === null) return [];
  const out: HeredocWord[] = [];
  for (const word of words) {
    const m = HEREDOC.exec(word);
    if (!m || !m[3]) continue;
    // An error here fails BuildKit's parse (the file does not build); digest-pin reads the word as no heredoc.
    const name = lexWords(m[3], false);
    if (name !== null && name.length === 1) out.push({ name: name[0] as string, chomp: m[2] === "-" });
  }
  return out;
}

/**
 * Whether the arguments are in JSON (exec) form, which never has heredocs.
 *
 * @example isJsonForm(' ["cat", "<<EOF"]') // true
 */
export function isJsonForm(args: string): boolean {
  const trimmed = args.trimStart();
  if (!trimmed.startsWith("[")) return false;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === "string");
  } catch {
    return false;
  }
}

const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

/**
 * The heredocs of an instruction's logical line: RUN, COPY and ADD, also under ONBUILD, not in JSON form.
 *
 * @example heredocsOf("ONBUILD RUN <<EOF") // [{ name: "EOF", chomp: false }]
 */
export function heredocsOf(text: string): HeredocWord[] {
  if (!text.includes("<<")) return [];
  let { keyword, rest } = splitKeyword(text);
  if (keyword === "onbuild") {
    const inner = splitKeyword(text.slice(rest));
    keyword = inner.keyword;
    rest += inner.rest;
  }
  if (!HEREDOC_KEYWORDS.has(keyword)) return [];
  if (isJsonForm(text.slice(extractFlags(text, rest).rest))) return [];
  return buildkitHeredocs(text);
}
