// YAML files for the managers: parsed with the `yaml` package into documents whose nodes keep their source ranges
// (nothing is ever re-serialised: an edit replaces the bytes of one scalar), within bounds that a hostile file
// cannot push past, and walked with aliases and merge keys followed a bounded number of times.

import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node, type Scalar, type YAMLMap } from "yaml";
import type { FoundReference } from "../dockerfile/types.js";
import { capReferences } from "./cap.js";
import { MAX_ALIAS_STEPS, MAX_FLOW_DEPTH, MAX_INDENT, MAX_YAML_BYTES, MAX_YAML_DOCUMENTS, MAX_YAML_NODES } from "./limits.js";
import { decodeText, referenceAt, skippedFile, unrewritable, type ReferenceOptions, type Site, type TextSource } from "./source.js";
import type { BuildArgUse, Extraction, FileSkipReason } from "./types.js";

export interface YamlFile {
  src: TextSource;
  docs: Document.Parsed[];
}

export type YamlRead = { ok: true; file: YamlFile } | { ok: false; reason: FileSkipReason; detail: string };

/**
 * Cheap upper bounds, before the parser sees the file: on its nodes (lines and commas), and on nesting (the parser
 * recurses): unmatched flow brackets, the leading indentation and indicators of each line. Brackets and commas inside
 * strings count too; real files are far below.
 */
function shapeProblem(text: string): string | null {
  let depth = 0;
  let lineStart = true;
  let indent = 0;
  let nodes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 /* , */ || c === 10) {
      if (++nodes > MAX_YAML_NODES) return `more than ${MAX_YAML_NODES} lines and flow items`;
    }
    if (c === 10 || c === 13) {
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      const next = text.charCodeAt(i + 1);
      const indicator = (c === 45 /* - */ || c === 63 /* ? */ || c === 58) /* : */ && (next === 32 || next === 9);
      if (c === 32 || c === 9 || indicator) {
        if (++indent > MAX_INDENT) return `a line is nested more than ${MAX_INDENT} levels deep`;
        continue;
      }
      lineStart = false;
    }
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return `flow collections are nested more than ${MAX_FLOW_DEPTH} deep`;
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return null;
}

/**
 * Where the documents of a stream start: at each line that is a `---` marker. YAML forbids such a line inside any
 * scalar, so splitting there is exact; with directives (`%YAML`) the stream is taken whole.
 */
function documentStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf("---"); at !== -1; at = text.indexOf("---", at + 3)) {
    if (at !== 0 && text[at - 1] !== "\n" && text[at - 1] !== "\r") continue;
    const after = text[at + 3];
    if (after !== undefined && after !== " " && after !== "\t" && after !== "\n" && after !== "\r") continue;
    if (at !== 0) starts.push(at);
    if (starts.length > MAX_YAML_DOCUMENTS) break;
  }
  return /(?:^|[\r\n])%/.test(text) ? [0] : starts;
}

/** Parse one stretch of the stream, its nodes' ranges moved to offsets in the whole text. */
function parseStretch(text: string, start: number, end: number): Document.Parsed[] {
  const docs = parseAllDocuments(text.slice(start, end), { schema: "failsafe", uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  if (start === 0) return list;
  for (const doc of list) {
    visit(doc, {
      Node: (_key, node) => {
        const range = node.range;
        if (range) node.range = [range[0] + start, range[1] + start, range[2] + start];
      },
    });
    for (const error of doc.errors) error.pos = [error.pos[0] + start, error.pos[1] + start];
  }
  return list;
}

/** The first error's line, for people. */
function errorLine(src: TextSource, offset: number | undefined): string {
  if (offset === undefined) return "";
  let line = 0;
  while (line + 1 < src.lineStarts.length && (src.lineStarts[line + 1] as number) <= offset) line++;
  return ` (line ${line + 1})`;
}

/**
 * Parse a YAML file (every document, or those `wanted` keeps: a manifest's Services and ConfigMaps need no parse),
 * or say why it is not read: too large, not UTF-8, too deeply nested, too many nodes or documents, not valid YAML.
 *
 * @example
 * const read = readYaml(Buffer.from("services:\n  web:\n    image: nginx:1.27\n"));
 */
export function readYaml(bytes: Uint8Array, wanted?: (document: string) => boolean): YamlRead {
  const src = decodeText(bytes, MAX_YAML_BYTES);
  if ("reason" in src) return { ok: false, ...src };
  const shape = shapeProblem(src.text);
  if (shape !== null) return { ok: false, reason: "too-complex", detail: shape };
  const starts = documentStarts(src.text);
  if (starts.length > MAX_YAML_DOCUMENTS) {
    return { ok: false, reason: "too-complex", detail: `more than ${MAX_YAML_DOCUMENTS} YAML documents` };
  }
  // failsafe: every scalar stays a string as written (a tag `1.10` is not the number 1.1); no duplicate-key check,
  // which is quadratic in the size of a mapping; aliases are never expanded (nothing is converted to JS); aliases
  // cannot cross documents, so documents can be parsed apart.
  const list: Document.Parsed[] = [];
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i] as number;
    const end = starts[i + 1] ?? src.text.length;
    if (wanted && starts.length > 1 && !wanted(src.text.slice(start, end))) continue;
    list.push(...parseStretch(src.text, start, end));
  }
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const message = error.message.split("\n")[0] ?? "";
      return { ok: false, reason: "unreadable", detail: `not valid YAML${errorLine(src, error.pos[0])}: ${message}` };
    }
  }
  return { ok: true, file: { src, docs: list } };
}

/** Walks one document: aliases resolved to their anchors, `<<` merge keys followed, both within a budget. */
export class YamlNav {
  private anchors: Map<string, Array<{ at: number; node: Node }>> | null = null;

  constructor(
    readonly doc: Document.Parsed,
    private readonly budget: { steps: number } = { steps: MAX_ALIAS_STEPS },
  ) {}

  /** Whether the alias budget is spent (the caller then reports the file as too complex). */
  get exhausted(): boolean {
    return this.budget.steps <= 0;
  }

  private spend(): boolean {
    return --this.budget.steps >= 0;
  }

  private anchorIndex(): Map<string, Array<{ at: number; node: Node }>> {
    if (this.anchors) return this.anchors;
    const index = new Map<string, Array<{ at: number; node: Node }>>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node) || !node.anchor) return;
        const list = index.get(node.anchor) ?? [];
        list.push({ at: node.range?.[0] ?? 0, node });
        index.set(node.anchor, list);
      },
    });
    this.anchors = index;
    return index;
  }

  /** The node itself, or the node its alias names (the last anchor of that name before it); null when unknown. */
  resolve(node: unknown): Node | null {
    if (!isAlias(node)) return (node as Node | null | undefined) ?? null;
    if (!this.spend()) return null;
    const at = node.range?.[0] ?? 0;
    const candidates = this.anchorIndex().get(node.source) ?? [];
    let found: Node | null = null;
    for (const c of candidates) if (c.at < at) found = c.node;
    return isAlias(found) ? null : found;
  }

  /** The pairs of a mapping as `key → value`, merge keys (`<<: *a`, `<<: [*a, *b]`) followed; own keys win. */
  entries(map: unknown, depth = 0): Map<string, Node | null> {
    const out = new Map<string, Node | null>();
    const m = this.resolve(map);
    if (!isMap(m)) return out;
    const merges: Node[] = [];
    for (const pair of (m as YAMLMap<unknown, unknown>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === null) continue;
      if (key === "<<" && depth < 8) {
        const value = pair.value;
        if (isSeq(value)) merges.push(...(value.items as Node[]));
        else if (value) merges.push(value as Node);
        continue;
      }
      if (!out.has(key)) out.set(key, (pair.value as Node | null) ?? null);
    }
    for (const source of merges) {
      for (const [key, value] of this.entries(source, depth + 1)) if (!out.has(key)) out.set(key, value);
    }
    return out;
  }

  /** One key of a mapping (merge keys followed), resolved; null when absent. */
  get(map: unknown, key: string): Node | null {
    return this.resolve(this.entries(map).get(key) ?? null);
  }

  /** The items of a sequence, resolved; empty for anything else. */
  items(seq: unknown): Node[] {
    const s = this.resolve(seq);
    if (!isSeq(s)) return [];
    const out: Node[] = [];
    for (const item of s.items) {
      const node = this.resolve(item);
      if (node) out.push(node);
    }
    return out;
  }

  /** A scalar's string value, or null for anything else. */
  string(node: unknown): string | null {
    const n = this.resolve(node);
    return isScalar(n) ? String(n.value) : null;
  }
}

/**
 * Where a scalar's text can be rewritten byte for byte: the plain scalar, or the inside of its quotes. Multi-line,
 * block and folded scalars, and quoted ones with escapes, are reported and never rewritten.
 */
export function scalarSite(src: TextSource, node: Scalar): Site | { reason: "multiline" | "invalid"; detail: string; site: Site } {
  const [start, end] = node.range ?? [0, 0, 0];
  const whole = { start, end, after: end };
  switch (node.type) {
    case "BLOCK_LITERAL":
    case "BLOCK_FOLDED": {
      // Reported at its content (the header line and surrounding white space left out), never rewritten.
      let a = start;
      while (a < end && src.text[a] !== "\n" && src.text[a] !== "\r") a++;
      while (a < end && /\s/.test(src.text[a] as string)) a++;
      let b = end;
      while (b > a && /\s/.test(src.text[b - 1] as string)) b--;
      return { reason: "multiline", detail: "a block or folded scalar is not rewritten", site: { start: a, end: b, after: end } };
    }
    case "QUOTE_DOUBLE":
    case "QUOTE_SINGLE": {
      const inner = { start: start + 1, end: Math.max(start + 1, end - 1), after: end };
      const text = src.text.slice(inner.start, inner.end);
      if (/[\r\n]/.test(text)) return { reason: "multiline", detail: "a quoted scalar spread over several lines is not rewritten", site: inner };
      const escaped = node.type === "QUOTE_DOUBLE" ? text.includes("\\") : text.includes("''");
      if (escaped || text !== String(node.value)) {
        return { reason: "invalid", detail: "the reference is written with escapes inside its quotes", site: inner };
      }
      return inner;
    }
    default: {
      const text = src.text.slice(start, end);
      if (/[\r\n]/.test(text)) return { reason: "multiline", detail: "a plain scalar spread over several lines is not rewritten", site: whole };
      return whole;
    }
  }
}

/**
 * The reference a YAML value names (a scalar, or an alias to one), or null when the value is no scalar. `prefix`
 * is text the value starts with that is not part of the reference (`docker://`).
 */
export function scalarReference(
  file: YamlFile,
  nav: YamlNav,
  value: unknown,
  options: ReferenceOptions & { prefix?: string; inner?: (text: string) => { start: number; end: number } | null },
): FoundReference | null {
  const node = nav.resolve(value);
  if (!isScalar(node)) return null;
  const site = scalarSite(file.src, node);
  if ("reason" in site) return unrewritable(file.src, site.site, site.reason, site.detail);
  let { start, end } = site;
  if (options.prefix) start += options.prefix.length;
  if (options.inner) {
    const part = options.inner(file.src.text.slice(start, end));
    if (part !== null) {
      end = start + part.end;
      start += part.start;
    }
  }
  return referenceAt(file.src, { start, end, after: site.after }, options);
}

/** What a manager's walk of one document adds to the file's extraction. */
export interface YamlFindings {
  references: FoundReference[];
  buildArgs: BuildArgUse[];
  includes: string[];
}

/**
 * Walk every document of a read YAML file with one alias budget for the whole file, and make the extraction: the
 * file skipped when it could not be read or the budget ran out, its references in order otherwise.
 *
 * @example
 * walkYaml(readYaml(bytes), (file, nav, root, out) => { … out.references.push(found) … })
 */
export function walkYaml(
  read: YamlRead,
  walk: (file: YamlFile, nav: YamlNav, root: Node | null, out: YamlFindings) => void,
): Extraction {
  if (!read.ok) return skippedFile(read.reason, read.detail);
  const out: YamlFindings = { references: [], buildArgs: [], includes: [] };
  const budget = { steps: MAX_ALIAS_STEPS };
  for (const doc of read.file.docs) {
    const nav = new YamlNav(doc, budget);
    walk(read.file, nav, doc.contents as Node | null, out);
    if (nav.exhausted) return skippedFile("too-complex", "more aliases and merge keys than digest-pin follows");
  }
  return capReferences({
    references: out.references,
    ...(out.buildArgs.length > 0 ? { buildArgs: out.buildArgs } : {}),
    ...(out.includes.length > 0 ? { includes: out.includes } : {}),
  });
}
