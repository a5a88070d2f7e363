// Scan: a Dockerfile's bytes → its image references, each with the exact byte range that spells it. The lexer
// (lexer.ts) splits the file into instructions as BuildKit does; the arguments of the instructions that name images are
// read with BuildKit's own word rules (words.ts), so that every value maps back to its bytes; scan-state.ts turns
// values into references.

import { readParserDirectives } from "./directives.js";
import { expandWord } from "./expand.js";
import { lexDockerfile } from "./lexer.js";
import type { Logical } from "./logical.js";
import { Scan } from "./scan-state.js";
import { toSource } from "./text.js";
import type { FoundReference } from "./types.js";
import { fromFlag, fromShell, literalPlatform, stageName, type Value } from "./values.js";
import { extractFlags, shellWord, splitFields, splitKeyword, splitWord, splitWords, subWord } from "./words.js";

export interface ScanOptions {
  /**
   * Build arguments the repository passes when it builds this Dockerfile (`--build-arg`, compose `build.args`…):
   * name → where, for people. A reference built from one of them is skipped as `build-arg`, since a pin would
   * silently override the value passed.
   */
  buildArgs?: ReadonlyMap<string, string>;
}

/** ARG: each global default, expanded with the ARGs before it (BuildKit's meta args). */
function arg(s: Scan, logical: Logical): void {
  const text = logical.text;
  for (const [a, b] of splitWords(text, splitKeyword(text).rest, s.escape)) {
    const eq = text.indexOf("=", a);
    // BuildKit: a global ARG without a value keeps the earlier default; ARGs inside a stage do not concern images.
    if (s.inStage || eq === -1 || eq >= b) continue;
    const name = text.slice(a, eq);
    const word = shellWord(text, eq + 1, b, s.escape);
    const value: Value = { ...fromShell(logical, word), range: [eq + 1, b] };
    const expansion = expandWord(text.slice(eq + 1, b), s.env, s.escape);
    for (const used of expansion.matched) {
      const global = s.globals.get(used);
      if (global && used !== name) global.partlyUsed = true;
    }
    s.globals.set(name, { name, value, expansion, wholeUses: [], partlyUsed: false });
    // A default with a problem still gets its value: whoever uses it learns the problem through closure().
    s.env.set(name, expansion.value);
  }
}

/** FROM [--platform=…] image [AS name]. */
function from(s: Scan, logical: Logical): void {
  const text = logical.text;
  const { flags, rest } = extractFlags(text, splitKeyword(text).rest);
  const fields = splitFields(text, rest);
  s.inStage = true;
  const image = fields[0];
  if (image === undefined) return;
  const word = shellWord(text, image[0], image[1], s.escape);
  s.use("from", { ...fromShell(logical, word), range: image }, literalPlatform(flags));
  const stage = stageName(text, fields);
  if (stage !== null) s.earlierStages.add(stage);
}

/** COPY --from=image. */
function copy(s: Scan, logical: Logical): void {
  const text = logical.text;
  for (const flag of extractFlags(text, splitKeyword(text).rest).flags) {
    if (flag.name === "from" && flag.value && flag.value.value !== "") {
      s.use("copy-from", fromFlag(logical, flag.value), null);
    }
  }
}

/** RUN --mount=…,from=image,… */
function run(s: Scan, logical: Logical): void {
  const text = logical.text;
  if (!text.includes("--mount")) return;
  for (const flag of extractFlags(text, splitKeyword(text).rest).flags) {
    if (flag.name !== "mount" || !flag.value) continue;
    for (const field of splitWord(flag.value, ",")) {
      const eq = field.value.indexOf("=");
      if (eq === -1 || field.value.slice(0, eq).toLowerCase() !== "from") continue;
      const value = subWord(field, eq + 1);
      if (value.value !== "") s.use("mount-from", fromFlag(logical, value), null);
    }
  }
}

/** ONBUILD's trigger runs in the builds that use this image: its COPY --from and mounts name images too. */
function onbuild(s: Scan, logical: Logical): void {
  const { rest } = splitKeyword(logical.text);
  const inner: Logical = { text: logical.text.slice(rest), get pos() { return logical.pos.subarray(rest); } };
  const keyword = splitKeyword(inner.text).keyword;
  if (keyword === "copy") copy(s, inner);
  else if (keyword === "run") run(s, inner);
}

const HANDLERS: Record<string, (s: Scan, l: Logical) => void> = { arg, from, copy, run, onbuild };

function scan(content: Uint8Array, options: ScanOptions): FoundReference[] {
  const src = toSource(content);
  const directives = readParserDirectives(src);
  const scanner = new Scan(content, src, directives.escape, options.buildArgs ?? new Map());
  if (directives.syntax) scanner.emit("syntax", directives.syntax.start, directives.syntax.end);

  const instructions = lexDockerfile(src, directives.escape);
  for (const i of instructions) {
    if (i.keyword !== "from") continue;
    const text = i.logical.text;
    const name = stageName(text, splitFields(text, extractFlags(text, splitKeyword(text).rest).rest));
    if (name !== null) scanner.allStages.add(name);
  }
  for (const i of instructions) HANDLERS[i.keyword]?.(scanner, i.logical);
  scanner.finishGlobals();
  scanner.applyInlineIgnores();
  return scanner.found.sort((a, b) => a.start - b.start);
}

/**
 * The scanner failed on a file: a bug in the scanner (the fuzz tests have found none), never "no references".
 *
 * @example try { scanDockerfile(bytes) } catch (e) { if (e instanceof ScanError) report(e.code, e.cause) }
 */
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
