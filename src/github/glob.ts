// Globs from repository content (`ignorePaths`, `ignoreImages`), matched in time linear in the text: a regular
// expression engine that backtracks (picomatch compiles to one) takes 37 s for `**/*/**/*/…/c` against a 60-component
// path. Here a pattern is a list of segments matched by simulating all positions at once, path segment by path
// segment and, inside a segment, character by character: at most (pattern length + 1) × (text length + 1) steps.
//
// The syntax is picomatch's core with `dot: true` (tested against picomatch): `/` separates segments; `**` alone in
// a segment is any number of segments, none included; `*` is any run of characters within a segment; `?` one
// character; `[abc]`, `[a-z]`, `[!a]`/`[^a]` one character of (or not of) a set; `{a,b}` alternatives (nested ones
// too, expanded as the shell does); `\x` the character x; a leading `!` negates the pattern. What picomatch reads
// in ways of its own is refused with a GlobError rather than read differently: `**` that is not a whole segment
// (`**.Dockerfile` crosses `/` in picomatch, `**a` does not), extended globs (`@(a|b)`, `!(a)`…), brace ranges
// (`{1..3}`) and POSIX classes (`[[:alpha:]]`).

/** Bounds on patterns (documented in SECURITY.md and README); the config enforces the first two. */
export const GLOB_LIMITS = {
  /** Patterns in one list (`ignorePaths`, `ignoreImages`). */
  patterns: 50,
  /** Characters in one pattern. */
  length: 200,
  /** Alternatives one pattern's braces expand to. */
  alternatives: 32,
  /** Steps all the matching of one scan may take (about a third of a second of CPU, spread over many turns). */
  stepsPerScan: 20_000_000,
} as const;

/** A pattern this matcher refuses; the message names the pattern and the reason. */
export class GlobError extends Error {
  override readonly name = "GlobError";
}

/**
 * Counts the matcher's steps (tests use it to show the work is linear); past `limit` the match throws a GlobError,
 * so that a budget bounds all the matching of one scan.
 */
export interface StepCounter {
  steps: number;
  limit?: number;
}

type CharTest = (c: string) => boolean;
/** One character (`x`, `?`, a class) or a run of them (`*`). */
type Token = { star: true } | { star: false; test: CharTest };

export interface Glob {
  readonly pattern: string;
  match(text: string, counter?: StepCounter): boolean;
}

function step(counter: StepCounter | undefined): void {
  if (counter && ++counter.steps > (counter.limit ?? Infinity)) {
    throw new GlobError(`matching the patterns took more than ${counter.limit} steps`);
  }
}

/**
 * The positions of a pattern reached so far, to follow every position at once (as a Thompson NFA does): adding a
 * position also adds those reachable without consuming anything (past a star or a `**`); each position is held once,
 * so a step of the text costs at most one step per position, and nothing is allocated per step.
 */
class Frontier {
  private current: Int32Array;
  private next: Int32Array;
  private readonly mark: Uint32Array;
  private generation = 1;
  private pending = 0;
  /** Positions in the current set. */
  size = 0;

  constructor(private readonly skippable: Uint8Array) {
    this.current = new Int32Array(skippable.length);
    this.next = new Int32Array(skippable.length);
    this.mark = new Uint32Array(skippable.length);
  }

  /** Start again from the first position. */
  reset(): void {
    this.generation++;
    this.pending = 0;
    this.add(0);
    this.commit();
  }

  /** Put a position in the next set. */
  add(at: number): void {
    if (this.mark[at] === this.generation) return;
    this.mark[at] = this.generation;
    this.next[this.pending++] = at;
    if (this.skippable[at] === 1) this.add(at + 1);
  }

  /** The next set becomes the current one; returns its size. */
  commit(): number {
    [this.current, this.next] = [this.next, this.current];
    this.size = this.pending;
    this.pending = 0;
    this.generation++;
    return this.size;
  }

  at(k: number): number {
    return this.current[k] as number;
  }

  has(at: number): boolean {
    for (let k = 0; k < this.size; k++) if (this.current[k] === at) return true;
    return false;
  }
}

/** The tokens of one segment, matched against one whole text segment character by character. */
class SegmentMatcher {
  /** Per token: its test, or null for a star. */
  private readonly tests: Array<CharTest | null>;
  private readonly frontier: Frontier;

  constructor(tokens: readonly Token[]) {
    this.tests = tokens.map((t) => (t.star ? null : t.test));
    const star = new Uint8Array(tokens.length + 1);
    tokens.forEach((t, i) => (star[i] = t.star ? 1 : 0));
    this.frontier = new Frontier(star);
  }

  matches(text: string, counter: StepCounter | undefined): boolean {
    const end = this.tests.length;
    // A segment of stars alone does not match an empty segment (picomatch's `*` needs a character).
    if (text === "") return end === 0;
    const f = this.frontier;
    f.reset();
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      for (let k = 0; k < f.size; k++) {
        step(counter);
        const at = f.at(k);
        if (at === end) continue;
        const test = this.tests[at];
        if (test === null) f.add(at); // a star takes the character and stays
        else if (test?.(ch)) f.add(at + 1);
      }
      if (f.commit() === 0) return false;
    }
    return f.has(end);
  }
}

/** A pattern segment: `**`, a literal, or tokens that must cover one whole text segment. */
type Segment =
  | { globstar: true }
  | { globstar: false; literal: string | null; matcher: SegmentMatcher; endsWithStar: boolean };

const refuse = (pattern: string, why: string) => new GlobError(`pattern ${JSON.stringify(pattern)}: ${why}`);

/** Put around each brace alternative, so that `*{,b}*` cannot become a `**`; matches nothing, takes no place. */
const SEAM = "\u0000";

/** Expand `{a,b}` (nested too) into the alternatives; braces without a top-level comma stay literal. */
function expandBraces(text: string, pattern: string, budget: { left: number }): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "[") {
      const close = classEnd(text, i);
      if (close !== -1) i = close;
      continue;
    }
    if (c === "{") {
      if (depth === 0) open = i;
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = text.slice(open + 1, i);
        const options = splitTopLevel(inner);
        if (options.length < 2) {
          if (/^-?\d+\.\.-?\d+(\.\.\d+)?$|^[a-z]\.\.[a-z]$/i.test(inner)) {
            throw refuse(pattern, `brace ranges such as {${inner}} are not supported; list the alternatives`);
          }
          continue; // `{a}` is literal, as in picomatch
        }
        const head = text.slice(0, open);
        const tail = text.slice(i + 1);
        return options.flatMap((option) => expandBraces(head + SEAM + option + SEAM + tail, pattern, budget));
      }
    }
  }
  // Counted as each alternative is finished, so that `{a,b}{c,d}{e,f}…` stops at the limit, not after the blow-up.
  if (--budget.left < 0) throw refuse(pattern, `its braces expand to more than ${GLOB_LIMITS.alternatives} alternatives`);
  return [text];
}

function splitTopLevel(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts;
}

/** Index of the `]` that closes the class opened at `open`, or -1 (then `[` is a literal). */
function classEnd(text: string, open: number): number {
  let i = open + 1;
  if (text[i] === "!" || text[i] === "^") i++;
  if (text[i] === "]") i++; // a leading `]` is a member
  for (; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "/") return -1;
    else if (text[i] === "]") return i;
  }
  return -1;
}

function compileClass(body: string, pattern: string): CharTest {
  let i = 0;
  const negated = body[0] === "!" || body[0] === "^";
  if (negated) i++;
  if (body.includes("[:")) throw refuse(pattern, "POSIX classes such as [[:alpha:]] are not supported");
  const ranges: Array<[string, string]> = [];
  while (i < body.length) {
    let c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) c = body[++i] as string;
    let end = c;
    if (body[i + 1] === "-" && i + 2 < body.length) {
      end = body[i + 2] as string;
      if (end === "\\" && i + 3 < body.length) end = body[++i + 2] as string;
      i += 2;
    }
    ranges.push([c, end]);
    i++;
  }
  return (ch) => ch !== "/" && ranges.some(([lo, hi]) => ch >= lo && ch <= hi) !== negated;
}

function compileSegment(text: string, pattern: string): Segment {
  if (text === "**") return { globstar: true };
  if (text.includes("**")) {
    throw refuse(pattern, "`**` must be a whole path segment (write **/*.Dockerfile, not **.Dockerfile)");
  }
  const tokens: Token[] = [];
  let literal: string | null = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === SEAM) continue;
    if ((c === "@" || c === "!" || c === "+" || c === "*" || c === "?") && text[i + 1] === "(") {
      throw refuse(pattern, `extended globs such as ${c}(…) are not supported`);
    }
    if (c === "*") {
      if (tokens.at(-1)?.star !== true) tokens.push({ star: true });
      literal = null;
    } else if (c === "?") {
      tokens.push({ star: false, test: (ch) => ch !== "/" });
      literal = null;
    } else if (c === "[" && classEnd(text, i) !== -1) {
      const close = classEnd(text, i);
      tokens.push({ star: false, test: compileClass(text.slice(i + 1, close), pattern) });
      literal = null;
      i = close;
    } else {
      const ch = c === "\\" && i + 1 < text.length ? (text[++i] as string) : c;
      tokens.push({ star: false, test: (x) => x === ch });
      if (literal !== null) literal += ch;
    }
  }
  return { globstar: false, literal, matcher: new SegmentMatcher(tokens), endsWithStar: tokens.at(-1)?.star === true };
}

/** One alternative (no braces left): its segments, matched against the text's segments all at once. */
function compileAlternative(text: string, pattern: string): (target: string, counter?: StepCounter) => boolean {
  // `**/**` is `**`.
  const segments = text
    .split("/")
    .filter((s, i, all) => !(s === "**" && all[i - 1] === "**"))
    .map((s) => compileSegment(s, pattern));
  // As in picomatch: a trailing `/**` matches the segment before it alone (`dev/**` matches `dev`), unless that
  // segment ends with a star (`a*/**` needs one more segment): then it reads as `a*/*/**`.
  const last = segments.at(-1);
  const before = segments.at(-2);
  if (last?.globstar && before && !before.globstar && before.endsWithStar) {
    segments.splice(-1, 0, compileSegment("*", pattern));
  }
  const globstar = new Uint8Array(segments.length + 1);
  segments.forEach((segment, i) => (globstar[i] = segment.globstar ? 1 : 0));
  const f = new Frontier(globstar);
  return (target, counter) => {
    f.reset();
    for (const part of target.split("/")) {
      for (let k = 0; k < f.size; k++) {
        step(counter);
        const at = f.at(k);
        const segment = segments[at];
        if (segment === undefined) continue;
        if (segment.globstar) f.add(at); // `**` takes the segment and stays
        else if (segment.literal !== null ? segment.literal === part : segment.matcher.matches(part, counter)) {
          f.add(at + 1);
        }
      }
      if (f.commit() === 0) return false;
    }
    return f.has(segments.length);
  };
}

/**
 * Compile a glob; throws GlobError for a pattern that expands to too many alternatives or uses syntax this matcher
 * does not read. (How many patterns, and how long, is the config's to bound: GLOB_LIMITS.)
 *
 * @example
 * compileGlob("dev/**").match("dev/tools/Dockerfile"); // true
 * compileGlob("ghcr.io/acme/*").match("ghcr.io/acme/team/app"); // false
 */
export function compileGlob(pattern: string): Glob {
  if (/[\u0000-\u001f\u007f]/.test(pattern)) throw refuse(pattern, "control characters are not allowed");
  const negated = pattern.startsWith("!") && pattern[1] !== "(";
  // `./dev/**` means `dev/**`, as in picomatch.
  const body = (negated ? pattern.slice(1) : pattern).replace(/^(\.\/)+/, "");
  const alternatives = expandBraces(body, pattern, { left: GLOB_LIMITS.alternatives }).map((a) =>
    compileAlternative(a, pattern),
  );
  return {
    pattern,
    match: (text, counter) => alternatives.some((alternative) => alternative(text, counter)) !== negated,
  };
}

/**
 * One predicate for a list of patterns (true when any matches, as picomatch does for a list), remembering the answer
 * for each text (a repository's references share a few paths and image names). Its steps count against `counter`.
 *
 * @example
 * const ignored = globMatcher(["dev/**", "**\/*.test.Dockerfile"]);
 * ignored("dev/Dockerfile"); // true
 */
export function globMatcher(patterns: readonly string[], counter?: StepCounter): (text: string) => boolean {
  const globs = patterns.map(compileGlob);
  const answers = new Map<string, boolean>();
  return (text) => {
    let answer = answers.get(text);
    if (answer === undefined) {
      answer = globs.some((glob) => glob.match(text, counter));
      answers.set(text, answer);
    }
    return answer;
  };
}
