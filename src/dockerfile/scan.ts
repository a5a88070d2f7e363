// Scan: a Dockerfile's bytes → its image references, each with the exact byte range that spells it.
// dockerfile-ast finds the instructions (corrected where it disagrees with BuildKit, see instructions.ts); the
// arguments are read with BuildKit's own word rules (words.ts), so that every value maps back to its bytes.
//
// References built from global ARGs are expanded as BuildKit would (expand.ts). Where an ARG's default is a whole
// reference and every use of the ARG is a whole `FROM $ARG`, the reference is the ARG's default (pinned in the ARG
// line, listed once); otherwise each FROM is its own reference, pinned by appending the digest in the FROM itself.

import { endsWithIgnore, IGNORE_DETAIL, isIgnoreLine } from "../ignore-comments.js";
import { isValidDigest, parseReference } from "../reference.js";
import { readParserDirectives } from "./directives.js";
import { BUILTIN_ARGS, expandWord, UNKNOWN, type EnvValue, type Expansion } from "./expand.js";
import { parseInstructions } from "./instructions.js";
import type { Logical } from "./logical.js";
import { lineAt, lineContentEnd, toSource, utf8Slice, type Source } from "./text.js";
import type { FoundReference, ReferenceKind } from "./types.js";
import {
  extractFlags,
  flagValueVariable,
  shellWord,
  splitFields,
  splitKeyword,
  splitWord,
  splitWords,
  subWord,
  type Flag,
  type ShellWord,
  type Word,
} from "./words.js";

export interface ScanOptions {
  /**
   * Build arguments the repository passes when it builds this Dockerfile (`--build-arg`, compose `build.args`…):
   * name → where, for people. A reference built from one of them is skipped as `build-arg`, since a pin would
   * silently override the value passed.
   */
  buildArgs?: ReadonlyMap<string, string>;
}

/** A value as read: its characters and where each came from in the logical line. */
interface Value {
  logical: Logical;
  word: Word;
  variable: boolean;
  wholeVar: string | null;
  error: string | null;
  /** The logical range it was read from, quotes included, when that is more than its characters. */
  range?: [number, number];
}

/** A global ARG with a default, expanded with the ARGs before it. */
interface GlobalArg {
  name: string;
  value: Value;
  expansion: Expansion;
  /** FROMs that use it whole (`FROM $NAME`), with their own words. */
  wholeUses: Array<{ value: Value; platform: string | null }>;
  /** Used in a way that is not a whole reference: inside a longer FROM word or in another ARG's default. */
  partlyUsed: boolean;
}

/** Not an image: `scratch`, a stage index (FROM and COPY --from only: mounts have no indexes), or a stage name. */
function isNonImage(value: string, stages: ReadonlySet<string>, indexes: boolean): boolean {
  return value === "scratch" || (indexes && /^[+-]?\d+$/.test(value)) || stages.has(value.toLowerCase());
}

function fromFlag(logical: Logical, word: Word): Value {
  return { logical, word, ...flagValueVariable(word.value), error: null };
}

function fromShell(logical: Logical, word: ShellWord): Value {
  return { logical, word, variable: word.variable, wholeVar: word.wholeVar, error: word.error };
}

/** The literal `--platform` of a FROM, if it has one. */
function literalPlatform(flags: readonly Flag[]): string | null {
  const value = flags.find((f) => f.name === "platform")?.value?.value;
  if (!value || flagValueVariable(value).variable) return null;
  return value;
}

/** What the variables of a word come to, following the ARG defaults they use. */
interface Closure {
  names: Set<string>;
  problem: { skip: "variable" | "invalid"; detail: string } | null;
}

class Scan {
  readonly found: FoundReference[] = [];
  readonly globals = new Map<string, GlobalArg>();
  /** Global ARG values as BuildKit's meta args: the platform arguments first, then each ARG with a default. */
  readonly env = new Map<string, EnvValue>(BUILTIN_ARGS.map((name) => [name, UNKNOWN]));
  /** Stage names defined so far (FROM can only use earlier stages) and in the whole file (COPY --from can use any). */
  readonly earlierStages = new Set<string>();
  readonly allStages = new Set<string>();
  inStage = false;

  constructor(
    readonly content: Uint8Array,
    readonly src: Source,
    readonly escape: number,
    readonly buildArgs: ReadonlyMap<string, string>,
  ) {}

  emit(kind: ReferenceKind, start: number, end: number, extra: Partial<FoundReference> = {}): void {
    const base = this.src.base;
    const text = utf8Slice(this.content, start + base, end + base);
    const line = lineAt(this.src.lineStarts, start) + 1;
    const out: FoundReference = { kind, line, start: start + base, end: end + base, text, reference: null, skip: null };
    if (extra.skip) {
      out.skip = extra.skip;
      if (extra.skipDetail !== undefined) out.skipDetail = extra.skipDetail;
    } else {
      const parsed = parseReference(extra.expanded ?? text);
      if (parsed.ok) out.reference = parsed.value;
      else {
        out.skip = "invalid";
        out.skipDetail = extra.expanded === undefined ? parsed.error : `expands to "${extra.expanded}": ${parsed.error}`;
      }
    }
    if (extra.platform) out.platform = extra.platform;
    if (extra.arg !== undefined) out.arg = extra.arg;
    if (extra.expanded !== undefined) out.expanded = extra.expanded;
    this.found.push(out);
  }

  /** Source range of logical characters [a, b). */
  span(logical: Logical, a: number, b: number): [number, number] {
    const pos = logical.pos;
    if (a < b) return [pos[a] as number, (pos[b - 1] as number) + 1];
    const at = a < pos.length ? (pos[a] as number) : a > 0 ? (pos[a - 1] as number) + 1 : 0;
    return [at, at];
  }

  /** Why a value's characters are not one contiguous run of its source, or null when they are. */
  splitReason(v: Value): string | null {
    const at = v.word.at;
    const first = v.logical.pos[at[0] as number] as number;
    const last = v.logical.pos[at[at.length - 1] as number] as number;
    if (last - first === at.length - 1) return null;
    return /[\r\n]/.test(this.src.text.slice(first, last + 1))
      ? "the reference is split by a line continuation"
      : "the reference is written with quotes or escapes inside it";
  }

  /** A value that names an image as written: report it, or say why it cannot be rewritten. */
  literal(kind: ReferenceKind, v: Value, extra: Partial<FoundReference>): void {
    const at = v.word.at;
    const whole = this.wholeSpan(v);
    if (v.error !== null) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: v.error });
    if (at.length === 0) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: "empty reference" });
    const first = v.logical.pos[at[0] as number] as number;
    const last = v.logical.pos[at[at.length - 1] as number] as number;
    const split = this.splitReason(v);
    this.emit(kind, first, last + 1, split === null ? extra : { ...extra, skip: "invalid", skipDetail: split });
  }

  /** The source range a value was read from, quotes included. */
  wholeSpan(v: Value): [number, number] {
    if (v.range) return this.span(v.logical, ...v.range);
    const at = v.word.at;
    if (at.length === 0) return [0, 0];
    return this.span(v.logical, at[0] as number, (at[at.length - 1] as number) + 1);
  }

  /** The raw text of a value's word (quotes included), as BuildKit's lexer reads it. */
  raw(v: Value): string {
    const [a, b] = v.range ?? [0, v.logical.text.length];
    return v.logical.text.slice(a, b);
  }

  /** The names a word's variables come to through the ARG defaults they use, and the first reason to skip it. */
  closure(expansion: Expansion): Closure {
    const names = new Set<string>();
    let problem: Closure["problem"] = null;
    const note = (p: NonNullable<Closure["problem"]>) => (problem ??= p);
    // A worklist, not recursion: a chain of ARG defaults, each naming the one before, is as long as the file makes it.
    const pending: Array<[Expansion, string | null]> = [[expansion, null]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [e, via] = next;
      const of = via === null ? "" : ` (in the default of ARG ${via})`;
      if (e.error !== null) note({ skip: "invalid", detail: `${e.error}${of}` });
      if (e.unsupported !== null) note({ skip: "variable", detail: `uses ${e.unsupported}, which digest-pin does not expand${of}` });
      const unknown = [...e.unknown][0];
      if (unknown !== undefined) note({ skip: "variable", detail: `uses ${unknown}, which depends on the build${of}` });
      const unmatched = [...e.unmatched][0];
      if (unmatched !== undefined) {
        note({ skip: "variable", detail: `${unmatched} has no default in a global ARG (before the first FROM)${of}` });
      }
      // Reversed onto the stack, so that names are visited in the order the recursion visited them.
      const children: Array<[Expansion, string]> = [];
      for (const name of e.matched) {
        if (names.has(name)) continue;
        names.add(name);
        const global = this.globals.get(name);
        if (global) children.push([global.expansion, name]);
      }
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i] as [Expansion, string]);
    }
    return { names, problem };
  }

  /** The build argument among `names` that the repository passes, with where. */
  passedAtBuild(names: Iterable<string>): string | null {
    for (const name of names) {
      const where = this.buildArgs.get(name);
      if (where !== undefined) return `${name} is passed at build time (${where}): a digest here would silently override it`;
    }
    return null;
  }

  /**
   * A reference built from variables, at the word `v` (a FROM's image or an ARG's default): reported with its
   * expansion, pinned by appending the digest to the word as written (or replacing the literal digest it ends with).
   * `own` is the ARG whose default `v` is: a build argument of that name overrides it too.
   */
  expanded(kind: ReferenceKind, v: Value, expansion: Expansion, extra: Partial<FoundReference>, own?: string): void {
    const skip = (s: "variable" | "invalid" | "build-arg", skipDetail: string) =>
      this.emit(kind, ...this.wholeSpan(v), { ...extra, skip: s, skipDetail });
    const { names, problem } = this.closure(expansion);
    if (problem) return skip(problem.skip, problem.detail);
    const passed = this.passedAtBuild(own === undefined ? names : [own, ...names]);
    if (passed !== null) return skip("build-arg", passed);
    const span = this.rawSpan(v);
    if (typeof span === "string") return skip("invalid", span);
    const raw = v.logical.text.slice(span[0], span[1]);
    const value = expansion.value;
    const at = raw.indexOf("@");
    if (at !== -1 || value.includes("@")) {
      // The digest must be the literal end of the word, so that a refresh can replace it in place.
      const digest = raw.slice(at + 1);
      const literalDigest = at !== -1 && raw.indexOf("@", at + 1) === -1 && isValidDigest(digest);
      if (!literalDigest || !value.endsWith(`@${digest}`)) {
        return skip("variable", "the digest comes from a build variable, so it cannot be refreshed in place");
      }
    }
    this.emit(kind, ...this.span(v.logical, ...span), { ...extra, expanded: value });
  }

  /**
   * The logical range of a word with variables that a digest can be appended to: the word itself, or the inside of
   * the double quotes around it; a reason when the word has other quotes or escapes or is split by a continuation.
   */
  rawSpan(v: Value): [number, number] | string {
    const text = v.logical.text;
    let [a, b] = v.range ?? [0, text.length];
    if (b - a >= 2 && text[a] === '"' && text[b - 1] === '"') {
      a++;
      b--;
    }
    const raw = text.slice(a, b);
    if (raw.length === 0) return "empty reference";
    if (/['"]/.test(raw) || raw.includes(String.fromCharCode(this.escape))) {
      return "the reference is written with quotes or escapes inside it";
    }
    const pos = v.logical.pos;
    if ((pos[b - 1] as number) - (pos[a] as number) !== b - a - 1) return "the reference is split by a line continuation";
    return [a, b];
  }

  /** A reference in FROM, COPY --from or a mount's from=. */
  use(kind: ReferenceKind, v: Value, platform: string | null): void {
    const stages = kind === "from" ? this.earlierStages : this.allStages;
    const indexes = kind !== "mount-from";
    const extra = platform ? { platform } : {};
    if (!v.variable) {
      if (v.error === null && isNonImage(v.word.value, stages, indexes)) return;
      return this.literal(kind, v, extra);
    }
    // BuildKit expands no variables in COPY --from or a mount's from= (it rejects them): not a reference.
    if (kind !== "from") return;
    const expansion = expandWord(this.raw(v), this.env, this.escape);
    if (expansion.error === null && isNonImage(expansion.value, stages, indexes)) {
      if (expansion.unmatched.size === 0 && expansion.unknown.size === 0 && expansion.unsupported === null) return;
    }
    const whole = v.wholeVar === null ? undefined : this.globals.get(v.wholeVar);
    if (whole !== undefined) {
      whole.wholeUses.push({ value: v, platform });
      return;
    }
    for (const name of expansion.matched) {
      const global = this.globals.get(name);
      if (global) global.partlyUsed = true;
    }
    this.expanded(kind, v, expansion, extra);
  }

  arg(logical: Logical): void {
    const text = logical.text;
    for (const [a, b] of splitWords(text, splitKeyword(text).rest, this.escape)) {
      const eq = text.indexOf("=", a);
      // BuildKit: a global ARG without a value keeps the earlier default; ARGs inside a stage do not concern images.
      if (this.inStage || eq === -1 || eq >= b) continue;
      const name = text.slice(a, eq);
      const word = shellWord(text, eq + 1, b, this.escape);
      const value: Value = { ...fromShell(logical, word), range: [eq + 1, b] };
      const expansion = expandWord(text.slice(eq + 1, b), this.env, this.escape);
      for (const used of expansion.matched) {
        const global = this.globals.get(used);
        if (global && used !== name) global.partlyUsed = true;
      }
      this.globals.set(name, { name, value, expansion, wholeUses: [], partlyUsed: false });
      // A default with a problem still gets its value: whoever uses it learns the problem through closure().
      this.env.set(name, expansion.value);
    }
  }

  from(logical: Logical): void {
    const text = logical.text;
    const { flags, rest } = extractFlags(text, splitKeyword(text).rest);
    const fields = splitFields(text, rest);
    this.inStage = true;
    const image = fields[0];
    if (image === undefined) return;
    const word = shellWord(text, image[0], image[1], this.escape);
    this.use("from", { ...fromShell(logical, word), range: image }, literalPlatform(flags));
    const stage = stageName(text, fields);
    if (stage !== null) this.earlierStages.add(stage);
  }

  copy(logical: Logical): void {
    const text = logical.text;
    for (const flag of extractFlags(text, splitKeyword(text).rest).flags) {
      if (flag.name === "from" && flag.value && flag.value.value !== "") {
        this.use("copy-from", fromFlag(logical, flag.value), null);
      }
    }
  }

  run(logical: Logical): void {
    const text = logical.text;
    if (!text.includes("--mount")) return;
    for (const flag of extractFlags(text, splitKeyword(text).rest).flags) {
      if (flag.name !== "mount" || !flag.value) continue;
      for (const field of splitWord(flag.value, ",")) {
        const eq = field.value.indexOf("=");
        if (eq === -1 || field.value.slice(0, eq).toLowerCase() !== "from") continue;
        const value = subWord(field, eq + 1);
        if (value.value !== "") this.use("mount-from", fromFlag(logical, value), null);
      }
    }
  }

  /** ONBUILD's trigger runs in the builds that use this image: its COPY --from and mounts name images too. */
  onbuild(logical: Logical): void {
    const { rest } = splitKeyword(logical.text);
    const inner: Logical = { text: logical.text.slice(rest), pos: logical.pos.subarray(rest) };
    const keyword = splitKeyword(inner.text).keyword;
    if (keyword === "copy") this.copy(inner);
    else if (keyword === "run") this.run(inner);
  }

  /** Each global ARG used whole: one reference at its default, unless some use is partial (then one per FROM). */
  finishGlobals(): void {
    for (const global of this.globals.values()) {
      const uses = global.wholeUses;
      if (uses.length === 0) continue;
      if (global.partlyUsed) {
        // Appending a digest to the default would break the partial uses: pin each whole use in its FROM.
        for (const use of uses) {
          const expansion = expandWord(this.raw(use.value), this.env, this.escape);
          this.expanded("from", use.value, expansion, use.platform ? { platform: use.platform } : {});
        }
        continue;
      }
      const platforms = new Set(uses.map((u) => u.platform));
      const platform = platforms.size === 1 ? [...platforms][0] : null;
      const extra: Partial<FoundReference> = { arg: global.name, ...(platform ? { platform } : {}) };
      const v = global.value;
      if (v.variable) {
        this.expanded("from", v, global.expansion, extra, global.name);
      } else {
        const passed = this.passedAtBuild([global.name]);
        if (passed !== null) this.emit("from", ...this.wholeSpan(v), { ...extra, skip: "build-arg", skipDetail: passed });
        else this.literal("from", v, extra);
      }
    }
  }

  /** References after a `# digest-pin: ignore` line (or, for `# syntax=`, with one at the end of the line). */
  applyInlineIgnores(): void {
    const src = this.src;
    const lineText = (line: number) => src.text.slice(src.lineStarts[line] as number, lineContentEnd(src, line));
    for (const ref of this.found) {
      const line = ref.line - 1;
      const before = line > 0 && isIgnoreLine(lineText(line - 1), "#");
      const after =
        ref.kind === "syntax" && endsWithIgnore(src.text.slice(ref.end - src.base, lineContentEnd(src, line)), "#");
      if (!before && !after) continue;
      ref.skip = "ignored-inline";
      ref.skipDetail = IGNORE_DETAIL;
      ref.reference = null;
    }
  }
}

/** `FROM image AS name` → the stage name, lower case. */
function stageName(text: string, fields: ReadonlyArray<[number, number]>): string | null {
  const as = fields[1];
  const name = fields[2];
  if (!as || !name || text.slice(as[0], as[1]).toLowerCase() !== "as") return null;
  return text.slice(name[0], name[1]).toLowerCase();
}

function scan(content: Uint8Array, options: ScanOptions): FoundReference[] {
  const src = toSource(content);
  const directives = readParserDirectives(src);
  const scanner = new Scan(content, src, directives.escape, options.buildArgs ?? new Map());
  if (directives.syntax) scanner.emit("syntax", directives.syntax.start, directives.syntax.end);

  const instructions = parseInstructions(src, directives);
  for (const i of instructions) {
    if (i.keyword !== "FROM") continue;
    const text = i.logical().text;
    const name = stageName(text, splitFields(text, extractFlags(text, splitKeyword(text).rest).rest));
    if (name !== null) scanner.allStages.add(name);
  }
  for (const i of instructions) {
    const handler = HANDLERS[i.keyword];
    if (handler === undefined) continue;
    const logical = i.logical();
    if (splitKeyword(logical.text).keyword !== i.keyword.toLowerCase()) continue;
    handler(scanner, logical);
  }
  scanner.finishGlobals();
  scanner.applyInlineIgnores();
  return scanner.found.sort((a, b) => a.start - b.start);
}

const HANDLERS: Record<string, (s: Scan, l: Logical) => void> = {
  ARG: (s, l) => s.arg(l),
  FROM: (s, l) => s.from(l),
  COPY: (s, l) => s.copy(l),
  RUN: (s, l) => s.run(l),
  ONBUILD: (s, l) => s.onbuild(l),
};

/** The scanner failed on a file: a bug in the scanner (the fuzz tests have found none), never "no references". */
export class ScanError extends Error {
  override readonly name = "ScanError";
  readonly code = "SCAN_FAILED";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A function from a Dockerfile's bytes to its references (scanDockerfile; tests inject others). */
export type Scanner = (content: Uint8Array) => FoundReference[];

/**
 * The image references of a Dockerfile, in file order. Any bytes are read the way BuildKit would read them; an
 * internal error (which the fuzz tests have not found) is a ScanError, so that a file the scanner cannot read is
 * reported, never taken for a file without references.
 *
 * @example
 * scanDockerfile(Buffer.from("ARG GO=1.22\nFROM golang:${GO}-alpine\n"))[0]?.expanded // "golang:1.22-alpine"
 */
export function scanDockerfile(content: Uint8Array, options: ScanOptions = {}): FoundReference[] {
  try {
    return scan(content, options);
  } catch (error) {
    throw new ScanError(`internal error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
