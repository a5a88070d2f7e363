// Variable expansion of one Dockerfile word, as BuildKit's shell lexer does it (frontend/dockerfile/shell/lex.go,
// ProcessWordWithMatches): quotes removed, escapes applied, `$V`, `${V}`, `${V:-x}`, `${V-x}`, `${V:+x}`, `${V+x}`,
// `${V:?x}` and `${V?x}` evaluated, nested words included. The pattern forms (`${V#p}`, `${V%p}`, `${V/p/r}`) are
// recognised but not evaluated: a word using them is reported as unsupported rather than guessed.

/** A value only the build knows (the platform arguments BuildKit sets, such as TARGETARCH). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type EnvValue = string | typeof UNKNOWN;
export type Env = ReadonlyMap<string, EnvValue>;

/** The arguments BuildKit defines before any ARG (dockerfile2llb defaultArgs): their values depend on the build. */
export const BUILTIN_ARGS: readonly string[] = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDOSVERSION",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETOSVERSION",
  "TARGETARCH",
  "TARGETVARIANT",
  "TARGETSTAGE",
];

export interface Expansion {
  /** The word after expansion (meaningless when `unknown`, `unsupported` or `error` is set). */
  value: string;
  /** Variables that were set (by an ARG default or by BuildKit). */
  matched: Set<string>;
  /** Variables that were not set: BuildKit expands them to "" (or to a `:-` default), a build argument can set them. */
  unmatched: Set<string>;
  /** Names of variables whose value only the build knows, that the word used. */
  unknown: Set<string>;
  /** The first construct digest-pin does not evaluate, e.g. `${V#pattern}`. */
  unsupported: string | null;
  /** Why BuildKit would reject the word. */
  error: string | null;
}

const DOLLAR = 36;
const LBRACE = 123;
const RBRACE = 125;
const SQUOTE = 39;
const DQUOTE = 34;
const EOF = -1;
const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);
const isDigit = (c: number) => c >= 48 && c <= 57;
const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;

class LexError extends Error {}

/** `${A:-${A:-…}}` nests, and each level is a call here: past this depth the word is an error, not a stack overflow. */
const MAX_NESTING = 1_000;

class Lexer {
  pos = 0;
  depth = 0;
  readonly out: Expansion = {
    value: "",
    matched: new Set(),
    unmatched: new Set(),
    unknown: new Set(),
    unsupported: null,
    error: null,
  };

  constructor(
    readonly word: string,
    readonly env: Env,
    readonly escape: number,
  ) {}

  peek(): number {
    return this.pos < this.word.length ? this.word.charCodeAt(this.pos) : EOF;
  }

  next(): number {
    const c = this.peek();
    if (c !== EOF) this.pos++;
    return c;
  }

  /** processStopOn: read up to `stop` (EOF for the whole word). */
  word_(stop: number, rawEscapes: boolean): string {
    let result = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return result;
      }
      if (ch === DOLLAR) result += this.dollar();
      else if (ch === SQUOTE) result += this.singleQuote();
      else if (ch === DQUOTE) result += this.doubleQuote();
      else {
        let c = this.next();
        if (c === this.escape) {
          if (rawEscapes) result += String.fromCharCode(c);
          c = this.next();
          if (c === EOF) break;
        }
        result += String.fromCharCode(c);
      }
    }
    if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${String.fromCharCode(stop)}`);
    return result;
  }

  singleQuote(): string {
    this.next();
    let result = "";
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError("unexpected end of statement while looking for matching single-quote");
      if (ch === SQUOTE) return result;
      result += String.fromCharCode(ch);
    }
  }

  doubleQuote(): string {
    this.next();
    let result = "";
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new LexError("unexpected end of statement while looking for matching double-quote");
      if (peek === DQUOTE) {
        this.next();
        return result;
      }
      if (peek === DOLLAR) {
        result += this.dollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        const after = this.peek();
        if (after === EOF) continue;
        if (after === DQUOTE || after === DOLLAR || after === this.escape) ch = this.next();
      }
      result += String.fromCharCode(ch);
    }
  }

  name(): string {
    let name = "";
    const first = this.peek();
    if (first !== EOF && isDigit(first)) {
      while (this.peek() !== EOF && isDigit(this.peek())) name += String.fromCharCode(this.next());
      return name;
    }
    if (first !== EOF && SPECIAL_PARAMS.has(String.fromCharCode(first))) return String.fromCharCode(this.next());
    while (this.peek() !== EOF && NAME_CHAR.test(String.fromCharCode(this.peek()))) name += String.fromCharCode(this.next());
    return name;
  }

  /** The variable's value, recording whether it was set. */
  get(name: string): { value: string; set: boolean } {
    const value = this.env.get(name);
    if (value === undefined) {
      this.out.unmatched.add(name);
      return { value: "", set: false };
    }
    this.out.matched.add(name);
    if (value === UNKNOWN) {
      this.out.unknown.add(name);
      return { value: "", set: true };
    }
    return { value, set: true };
  }

  dollar(): string {
    if (++this.depth > MAX_NESTING) throw new LexError(`variables nested more than ${MAX_NESTING} deep`);
    try {
      return this.dollarAfterCheck();
    } finally {
      this.depth--;
    }
  }

  dollarAfterCheck(): string {
    this.next();
    if (this.peek() !== LBRACE) {
      const name = this.name();
      return name === "" ? "$" : this.get(name).value;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === LBRACE || first === RBRACE || first === 58) throw new LexError("syntax error: bad substitution");
    const name = this.name();
    let ch = this.next();
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    if (ch === RBRACE) return this.get(name).value;
    let modifier = String.fromCharCode(ch);
    let nullIsUnset = false;
    if (ch === 58 /* : */) {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch === EOF ? "" : String.fromCharCode(ch);
    }
    const op = ch === EOF ? "" : String.fromCharCode(ch);
    if (op === "/" && !nullIsUnset) return this.unsupportedForm(`\${${name}/…}`);
    if (!["+", "-", "?", "#", "%"].includes(op)) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const rawEscapes = op === "#" || op === "%";
    if (nullIsUnset && rawEscapes) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const word = this.wordInBraces(rawEscapes);
    const { value, set } = this.get(name);
    const empty = !set || (nullIsUnset && value === "");
    switch (op) {
      case "-":
        return empty ? word : value;
      case "+":
        return empty ? "" : word;
      case "?":
        if (!set) throw new LexError(`${name}: ${word || "is not allowed to be unset"}`);
        if (nullIsUnset && value === "") throw new LexError(`${name}: ${word || "is not allowed to be empty"}`);
        return value;
      default:
        this.out.unsupported ??= `\${${name}${op}…}`;
        return "";
    }
  }

  /** The word of a modifier, up to the closing brace (BuildKit reports a missing brace rather than the inner error). */
  wordInBraces(rawEscapes: boolean): string {
    try {
      return this.word_(RBRACE, rawEscapes);
    } catch (error) {
      if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw error;
    }
  }

  /** `${V/pattern/replacement}`: skip over it, note that it was not evaluated. */
  unsupportedForm(form: string): string {
    if (this.peek() === 47) this.next();
    const pattern = () => {
      try {
        this.word_(47, true);
      } catch {
        throw new LexError("syntax error: missing '/' in ${}");
      }
    };
    pattern();
    this.wordInBraces(true);
    this.out.unsupported ??= form;
    return "";
  }
}

/**
 * Expand a word (as written, quotes included) with the given variables, as BuildKit would.
 *
 * @example
 * expandWord("golang:${GO_VERSION}-alpine", new Map([["GO_VERSION", "1.22"]]), 92).value // "golang:1.22-alpine"
 */
export function expandWord(word: string, env: Env, escape: number): Expansion {
  const lexer = new Lexer(word, env, escape);
  try {
    lexer.out.value = lexer.word_(EOF, false);
  } catch (error) {
    if (!(error instanceof LexError)) throw error;
    lexer.out.value = "";
    lexer.out.error = error.message;
  }
  return lexer.out;
}
