// The state of one Dockerfile's scan: the references found so far, the global ARGs and the stages, and how a value
// becomes a reference (as written, or expanded from ARG defaults, or skipped with the reason).
//
// References built from global ARGs are expanded as BuildKit would (expand.ts). Where an ARG's default is a whole
// reference and every use of the ARG is a whole `FROM $ARG`, the reference is the ARG's default (pinned in the ARG
// line, listed once); otherwise each FROM is its own reference, pinned by appending the digest in the FROM itself.

import { endsWithIgnore, IGNORE_DETAIL, isIgnoreLine } from "../ignore-comments.js";
import { isValidDigest, parseReference } from "../reference.js";
import { BUILTIN_ARGS, expandWord, UNKNOWN, type EnvValue, type Expansion } from "./expand.js";
import { lineAt, lineContentEnd, utf8Slice, type Source } from "./text.js";
import type { FoundReference, ReferenceKind } from "./types.js";
import { isNonImage, rawSpan, rawText, span, splitReason, wholeSpan, type Value } from "./values.js";

/** A global ARG with a default, expanded with the ARGs before it. */
export interface GlobalArg {
  name: string;
  value: Value;
  expansion: Expansion;
  /** FROMs that use it whole (`FROM $NAME`), with their own words. */
  wholeUses: Array<{ value: Value; platform: string | null }>;
  /** Used in a way that is not a whole reference: inside a longer FROM word or in another ARG's default. */
  partlyUsed: boolean;
}

/** What the variables of a word come to, following the ARG defaults they use. */
interface Closure {
  names: Set<string>;
  problem: { skip: "variable" | "invalid"; detail: string } | null;
}

/**
 * One file's scan in progress: the instruction readers in scan.ts feed it values, it records references.
 *
 * @example
 * const s = new Scan(bytes, toSource(bytes), 92, new Map());
 * s.emit("from", 5, 8); s.found[0]?.text // the bytes [5, 8)
 */
export class Scan {
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

  /** A value that names an image as written: report it, or say why it cannot be rewritten. */
  literal(kind: ReferenceKind, v: Value, extra: Partial<FoundReference>): void {
    const at = v.word.at;
    const whole = wholeSpan(v);
    if (v.error !== null) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: v.error });
    if (at.length === 0) return this.emit(kind, ...whole, { ...extra, skip: "invalid", skipDetail: "empty reference" });
    const first = v.logical.pos[at[0] as number] as number;
    const last = v.logical.pos[at[at.length - 1] as number] as number;
    const split = splitReason(v, this.src.text);
    this.emit(kind, first, last + 1, split === null ? extra : { ...extra, skip: "invalid", skipDetail: split });
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
      this.emit(kind, ...wholeSpan(v), { ...extra, skip: s, skipDetail });
    const { names, problem } = this.closure(expansion);
    if (problem) return skip(problem.skip, problem.detail);
    const passed = this.passedAtBuild(own === undefined ? names : [own, ...names]);
    if (passed !== null) return skip("build-arg", passed);
    const range = rawSpan(v, this.escape);
    if (typeof range === "string") return skip("invalid", range);
    const raw = v.logical.text.slice(range[0], range[1]);
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
    this.emit(kind, ...span(v.logical, ...range), { ...extra, expanded: value });
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
    const expansion = expandWord(rawText(v), this.env, this.escape);
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

  /** Each global ARG used whole: one reference at its default, unless some use is partial (then one per FROM). */
  finishGlobals(): void {
    for (const global of this.globals.values()) {
      const uses = global.wholeUses;
      if (uses.length === 0) continue;
      if (global.partlyUsed) {
        // Appending a digest to the default would break the partial uses: pin each whole use in its FROM.
        for (const use of uses) {
          const expansion = expandWord(rawText(use.value), this.env, this.escape);
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
        if (passed !== null) this.emit("from", ...wholeSpan(v), { ...extra, skip: "build-arg", skipDetail: passed });
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

