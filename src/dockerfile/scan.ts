// Scan: a Dockerfile's bytes → its image references, each with the exact byte range that spells it.
// dockerfile-ast finds the instructions (corrected where it disagrees with BuildKit, see instructions.ts); the
// arguments are read with BuildKit's own word rules (words.ts), so that every value maps back to its bytes.

import { parseReference } from "../reference.js";
import { readParserDirectives } from "./directives.js";
import { parseInstructions } from "./instructions.js";
import type { Logical } from "./logical.js";
import { lineAt, toSource, utf8Slice, type Source } from "./text.js";
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

interface GlobalArg {
  name: string;
  value: Value;
  uses: Array<{ kind: ReferenceKind; platform: string | null }>;
}

/** Not an image: `scratch`, a stage index, or a stage name. */
function isNonImage(value: string, stages: ReadonlySet<string>): boolean {
  return value === "scratch" || /^[+-]?\d+$/.test(value) || stages.has(value.toLowerCase());
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

class Scan {
  readonly found: FoundReference[] = [];
  readonly globals = new Map<string, GlobalArg>();
  /** Stage names defined so far (FROM can only use earlier stages) and in the whole file (COPY --from can use any). */
  readonly earlierStages = new Set<string>();
  readonly allStages = new Set<string>();
  /** Names given a default by an ARG inside the current stage. */
  readonly stageArgs = new Set<string>();
  inStage = false;

  constructor(
    readonly content: Uint8Array,
    readonly src: Source,
    readonly escape: number,
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
      const parsed = parseReference(text);
      if (parsed.ok) out.reference = parsed.value;
      else {
        out.skip = "invalid";
        out.skipDetail = parsed.error;
      }
    }
    if (extra.platform) out.platform = extra.platform;
    if (extra.arg !== undefined) out.arg = extra.arg;
    this.found.push(out);
  }

  /** Source range of logical characters [a, b). */
  span(logical: Logical, a: number, b: number): [number, number] {
    const pos = logical.pos;
    if (a < b) return [pos[a] as number, (pos[b - 1] as number) + 1];
    const at = a < pos.length ? (pos[a] as number) : a > 0 ? (pos[a - 1] as number) + 1 : 0;
    return [at, at];
  }

  /** A value that names an image as written: report it, or say why it cannot be rewritten. */
  literal(kind: ReferenceKind, v: Value, extra: Partial<FoundReference>): void {
    const at = v.word.at;
    const whole = this.wholeSpan(v);
    if (v.error !== null) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: v.error });
    if (at.length === 0) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: "empty reference" });
    const first = v.logical.pos[at[0] as number] as number;
    const last = v.logical.pos[at[at.length - 1] as number] as number;
    if (last - first === at.length - 1) return this.emit(kind, first, last + 1, extra);
    const raw = this.src.text.slice(first, last + 1);
    const skipDetail = /[\r\n]/.test(raw)
      ? "the reference is split by a line continuation"
      : "the reference is written with quotes or escapes inside it";
    this.emit(kind, first, last + 1, { ...extra, skip: "invalid", skipDetail });
  }

  /** The source range a value was read from, quotes included. */
  wholeSpan(v: Value): [number, number] {
    if (v.range) return this.span(v.logical, ...v.range);
    const at = v.word.at;
    if (at.length === 0) return [0, 0];
    return this.span(v.logical, at[0] as number, (at[at.length - 1] as number) + 1);
  }

  /** A reference in FROM, COPY --from or a mount's from=. */
  use(kind: ReferenceKind, v: Value, platform: string | null): void {
    const stages = kind === "from" ? this.earlierStages : this.allStages;
    const extra = platform ? { platform } : {};
    if (!v.variable) {
      if (v.error === null && isNonImage(v.word.value, stages)) return;
      return this.literal(kind, v, extra);
    }
    const whole = this.wholeSpan(v);
    const name = v.wholeVar;
    if (name === null) {
      return this.emit(kind, ...whole, { ...extra, skip: "variable", skipDetail: "the reference uses a build variable" });
    }
    if (kind !== "from" && this.stageArgs.has(name)) {
      const skipDetail = `${name} is given a default by an ARG in this stage`;
      return this.emit(kind, ...whole, { ...extra, skip: "variable", skipDetail });
    }
    const global = this.globals.get(name);
    if (global === undefined) {
      const skipDetail = `${name} has no default in a global ARG (before the first FROM)`;
      return this.emit(kind, ...whole, { ...extra, skip: "variable", skipDetail });
    }
    const resolved = global.value;
    if (!resolved.variable && resolved.error === null && isNonImage(resolved.word.value, stages)) return;
    global.uses.push({ kind, platform });
  }

  arg(logical: Logical): void {
    const text = logical.text;
    for (const [a, b] of splitWords(text, splitKeyword(text).rest, this.escape)) {
      const eq = text.indexOf("=", a);
      const name = text.slice(a, eq === -1 || eq >= b ? b : eq);
      if (eq === -1 || eq >= b) {
        // BuildKit: a global ARG without a value keeps the earlier default; in a stage it takes the global one.
        if (this.inStage) this.stageArgs.delete(name);
        continue;
      }
      if (this.inStage) {
        this.stageArgs.add(name);
        continue;
      }
      const word = shellWord(text, eq + 1, b, this.escape);
      const value: Value = { ...fromShell(logical, word), range: [eq + 1, b] };
      this.globals.set(name, { name, value, uses: [] });
    }
  }

  from(logical: Logical): void {
    const text = logical.text;
    const { flags, rest } = extractFlags(text, splitKeyword(text).rest);
    const fields = splitFields(text, rest);
    this.inStage = true;
    this.stageArgs.clear();
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

  /** One reference per global ARG that is used as a whole reference, at its default value. */
  finishGlobals(): void {
    for (const global of this.globals.values()) {
      const first = global.uses[0];
      if (first === undefined) continue;
      const platforms = new Set(global.uses.map((u) => (u.kind === "from" ? u.platform : null)));
      const platform = platforms.size === 1 ? [...platforms][0] : null;
      const extra: Partial<FoundReference> = { arg: global.name, ...(platform ? { platform } : {}) };
      const v = global.value;
      if (v.variable) {
        const skipDetail = `the default of ARG ${global.name} uses a build variable`;
        this.emit(first.kind, ...this.wholeSpan(v), { ...extra, skip: "variable", skipDetail });
      } else {
        this.literal(first.kind, v, extra);
      }
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

function scan(content: Uint8Array): FoundReference[] {
  const src = toSource(content);
  const directives = readParserDirectives(src);
  const scanner = new Scan(content, src, directives.escape);
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
  return scanner.found.sort((a, b) => a.start - b.start);
}

const HANDLERS: Record<string, (s: Scan, l: Logical) => void> = {
  ARG: (s, l) => s.arg(l),
  FROM: (s, l) => s.from(l),
  COPY: (s, l) => s.copy(l),
  RUN: (s, l) => s.run(l),
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
 * @example scanDockerfile(Buffer.from("FROM python:3.12\n"))[0]?.text // "python:3.12"
 */
export function scanDockerfile(content: Uint8Array): FoundReference[] {
  try {
    return scan(content);
  } catch (error) {
    throw new ScanError(`internal error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
