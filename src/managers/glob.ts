// Path globs from repository config, matched without regular expressions. A regex-based matcher backtracks
// polynomially on patterns like `**/*a*a*a*a*b` (picomatch: 38 s for one 100-character path), and repository
// content chooses these patterns. Here matching is a dynamic programme over path segments, each segment matched by
// the classic two-pointer wildcard algorithm: at worst (pattern length × path length) steps.
//
// Syntax: `**` (any number of path segments, none included), `*` (any characters but `/`), `?` (one character but
// `/`), `{a,b}` (alternatives, not nested). Everything else is literal; dot files match like any other file.

/** Bounds on one pattern: alternatives after brace expansion, and its length. */
export const MAX_GLOB_LENGTH = 256;
const MAX_ALTERNATIVES = 64;

export class GlobError extends Error {
  override readonly name = "GlobError";
  constructor(
    readonly code: "TOO_LONG" | "TOO_MANY_ALTERNATIVES" | "UNBALANCED_BRACES" | "EMPTY",
    message: string,
  ) {
    super(message);
  }
}

/** `a{b,c}d{e,f}` → `abde`, `abdf`, `acde`, `acdf` (bounded). */
function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open === -1) {
    if (pattern.includes("}")) throw new GlobError("UNBALANCED_BRACES", `unbalanced "}" in "${pattern}"`);
    return [pattern];
  }
  const close = pattern.indexOf("}", open);
  if (close === -1 || pattern.slice(open + 1, close).includes("{")) {
    throw new GlobError("UNBALANCED_BRACES", `unbalanced or nested "{" in "${pattern}"`);
  }
  const head = pattern.slice(0, open);
  if (head.includes("}")) throw new GlobError("UNBALANCED_BRACES", `unbalanced "}" in "${pattern}"`);
  const tails = expandBraces(pattern.slice(close + 1));
  const out: string[] = [];
  for (const choice of pattern.slice(open + 1, close).split(",")) {
    for (const tail of tails) {
      out.push(head + choice + tail);
      if (out.length > MAX_ALTERNATIVES) {
        throw new GlobError("TOO_MANY_ALTERNATIVES", `"${pattern}" expands to more than ${MAX_ALTERNATIVES} alternatives`);
      }
    }
  }
  return out;
}

/** One path segment against one pattern segment with `*` and `?`: linear-ish, no backtracking beyond the last star. */
function matchSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === "?" || (c !== undefined && c !== "*" && c === text[t])) {
      p++;
      t++;
    } else if (c === "*") {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Segments of a pattern against segments of a path, `**` spanning any number of them. */
function matchSegments(pattern: readonly string[], path: readonly string[]): boolean {
  // reachable[j]: the pattern so far can match the first j path segments.
  let reachable = new Uint8Array(path.length + 1);
  reachable[0] = 1;
  for (const seg of pattern) {
    const next = new Uint8Array(path.length + 1);
    if (seg === "**") {
      let any = 0;
      for (let j = 0; j <= path.length; j++) {
        any |= reachable[j] as number;
        next[j] = any;
      }
    } else {
      for (let j = 0; j < path.length; j++) {
        if (reachable[j] && matchSegment(seg, path[j] as string)) next[j + 1] = 1;
      }
    }
    reachable = next;
  }
  return reachable[path.length] === 1;
}

/**
 * A matcher for repository paths (`/` separators, no leading `./`) against any of the patterns. Throws GlobError
 * for a pattern it refuses.
 *
 * @example
 * compileGlobs(["**\/k8s/**\/*.{yaml,yml}"])("deploy/k8s/base/app.yaml") // true
 */
export function compileGlobs(patterns: readonly string[]): (path: string) => boolean {
  const compiled: string[][] = [];
  for (const pattern of patterns) {
    if (pattern.length > MAX_GLOB_LENGTH) throw new GlobError("TOO_LONG", `a glob is longer than ${MAX_GLOB_LENGTH} characters`);
    const bare = pattern.replace(/^\.\//, "").replace(/^\/+/, "");
    if (bare.length === 0) throw new GlobError("EMPTY", "a glob is empty");
    for (const alternative of expandBraces(bare)) compiled.push(alternative.split("/"));
  }
  return (path) => {
    const segments = path.split("/");
    return compiled.some((pattern) => matchSegments(pattern, segments));
  };
}

/** Why a pattern is refused, or null when it is fine (for config validation). */
export function globProblem(pattern: string): string | null {
  try {
    compileGlobs([pattern]);
    return null;
  } catch (error) {
    if (error instanceof GlobError) return error.message;
    throw error;
  }
}
