// Where the instructions start, from dockerfile-ast, corrected to BuildKit's reading (see mask.ts), with each one's
// logical line built on demand from the unmodified source.

import { Instruction, Onbuild, type Dockerfile } from "dockerfile-ast";
import { Parser } from "dockerfile-ast/lib/parser.js";
import type { Directives } from "./directives.js";
import { astHeredocName, buildkitHeredocs, isJsonForm, type HeredocWord } from "./heredoc.js";
import { logicalLine, type Logical } from "./logical.js";
import { heredocMask, initialMask } from "./mask.js";
import { offsetOf, type Source } from "./text.js";
import { extractFlags, splitKeyword } from "./words.js";

export interface ParsedInstruction {
  /** Upper case, as dockerfile-ast reports it. */
  keyword: string;
  /** Offset in the source text of the keyword's first character. */
  start: number;
  logical: () => Logical;
}

/** Re-parses to settle heredoc disagreements, one instruction each (real files need none): at most this many, and
 * at most this many characters re-parsed in all. */
const MAX_REPARSES = 256;
const REPARSE_BUDGET = 8_000_000;
const HEREDOC_HOSTS = new Set(["RUN", "COPY", "ADD", "ONBUILD"]);
const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

type AstDocument = ConstructorParameters<typeof Instruction>[0];
type AstRange = ConstructorParameters<typeof Instruction>[1];
type AstDockerfile = ConstructorParameters<typeof Instruction>[2];

/** The parser's private state that instruction creation needs (dockerfile-ast is pinned to 0.7.1). */
interface ParserInternals {
  document: AstDocument;
  escapeChar: string;
  createInstruction(dockerfile: AstDockerfile, keyword: string, start: number, keywordEnd: number, end: number): Instruction;
}

/** The parser reads an instruction's arguments only to look for `<<`: skip that when there is no `<` at all. */
class PlainInstruction extends Instruction {
  override getArguments(): ReturnType<Instruction["getArguments"]> {
    return this.getTextContent().includes("<") ? super.getArguments() : [];
  }
}

/**
 * dockerfile-ast's parser with plain Instruction objects. Its own classes (Run, Copy, From…) parse their arguments,
 * flags and JSON eagerly, several times over, which is five sixths of the parse time; the scanner only needs keywords
 * and positions. ONBUILD keeps its class: the parser asks it for its trigger to find heredocs. The result is checked
 * against DockerfileParser.parse in the tests.
 */
export function parseAst(text: string): Dockerfile {
  const parser = new Parser();
  const internals = parser as unknown as ParserInternals;
  internals.createInstruction = function (this: ParserInternals, dockerfile, keyword, start, keywordEnd, end) {
    const doc = this.document;
    const from = doc.positionAt(start);
    const lineRange: AstRange = { start: from, end: doc.positionAt(end) };
    const keywordRange: AstRange = { start: from, end: doc.positionAt(keywordEnd) };
    const Kind = keyword.toUpperCase() === "ONBUILD" ? Onbuild : PlainInstruction;
    return new Kind(doc, lineRange, dockerfile, this.escapeChar, keyword, keywordRange);
  };
  return parser.parse(text);
}

/** BuildKit looks for heredocs on RUN, COPY and ADD (also under ONBUILD), not in their JSON form. */
function buildkitHeredocsOf(logical: Logical): HeredocWord[] {
  const text = logical.text;
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

/** dockerfile-ast's heredocs for an instruction, read the way its parser reads them. */
function astHeredocs(instruction: Instruction): { names: string[]; tabbed: boolean } {
  const target = instruction instanceof Onbuild ? instruction.getTriggerInstruction() : instruction;
  const names: string[] = [];
  let tabbed = false;
  if (target === null || !HEREDOC_KEYWORDS.has(target.getKeyword().toLowerCase())) return { names, tabbed };
  for (const arg of target.getArguments()) {
    const value = arg.getValue();
    if (!value.startsWith("<<") || value.length <= 2) continue;
    if (value.startsWith("<<-")) tabbed = true;
    const name = astHeredocName(value);
    if (name !== null) names.push(name);
  }
  return { names, tabbed };
}

function heredocsAgree(buildkit: readonly HeredocWord[], ast: { names: string[]; tabbed: boolean }): boolean {
  if (buildkit.length !== ast.names.length) return false;
  if (buildkit.some((h, i) => h.name !== ast.names[i])) return false;
  return buildkit.length === 0 || buildkit.some((h) => h.chomp) === ast.tabbed;
}

export function parseInstructions(src: Source, directives: Directives): ParsedInstruction[] {
  const cache = new Map<number, Logical>();
  const logicalAt = (start: number): Logical => {
    let l = cache.get(start);
    if (l === undefined) {
      l = logicalLine(src, start, directives.escape);
      cache.set(start, l);
    }
    return l;
  };
  // A final line break, after every offset that matters: dockerfile-ast rescans a first `#` line that never ends
  // from each of its characters (quadratic on a one-line file of `#…`).
  let masked = initialMask(src, directives);
  if (!/[\r\n]$/.test(masked)) masked += "\n";
  for (let attempt = 0; ; attempt++) {
    const out: ParsedInstruction[] = [];
    const canReparse = attempt < MAX_REPARSES && (attempt + 1) * masked.length <= REPARSE_BUDGET;
    let retry: string | null = null;
    for (const instruction of parseAst(masked).getInstructions()) {
      const at = instruction.getRange().start;
      const start = offsetOf(src, at.line, at.character);
      const keyword = instruction.getKeyword();
      out.push({ keyword, start, logical: () => logicalAt(start) });
      if (!canReparse || !HEREDOC_HOSTS.has(keyword)) continue;
      // dockerfile-ast drops escapes before looking for `<<` (`\<\<EOF` opens a heredoc for it): check any `<`.
      if (!instruction.getTextContent().includes("<")) continue;
      const logical = logicalAt(start);
      const buildkit = buildkitHeredocsOf(logical);
      if (heredocsAgree(buildkit, astHeredocs(instruction))) continue;
      retry = heredocMask(masked, logical, buildkit);
      if (retry === masked) retry = null;
      if (retry !== null) break;
    }
    if (retry === null) return out;
    masked = retry;
  }
}
