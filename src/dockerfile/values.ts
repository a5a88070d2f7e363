// A value read from an instruction (a FROM image, a flag's value, an ARG default) and the source bytes it maps to:
// whether a reference can be rewritten where it stands, and which range a digest goes to.

import type { Logical } from "./logical.js";
import { flagValueVariable, type Flag, type ShellWord, type Word } from "./words.js";

/** A value as read: its characters and where each came from in the logical line. */
export interface Value {
  logical: Logical;
  word: Word;
  variable: boolean;
  wholeVar: string | null;
  error: string | null;
  /** The logical range it was read from, quotes included, when that is more than its characters. */
  range?: [number, number];
}

/** @example fromFlag(logical, flag.value) // a `--from=` value, unquoted by BuildKit's flag rules */
export function fromFlag(logical: Logical, word: Word): Value {
  return { logical, word, ...flagValueVariable(word.value), error: null };
}

/** @example fromShell(logical, shellWord(text, a, b, 92)) */
export function fromShell(logical: Logical, word: ShellWord): Value {
  return { logical, word, variable: word.variable, wholeVar: word.wholeVar, error: word.error };
}

/**
 * The literal `--platform` of a FROM, if it has one.
 *
 * @example literalPlatform(extractFlags("FROM --platform=linux/arm64 a", 5).flags) // "linux/arm64"
 */
export function literalPlatform(flags: readonly Flag[]): string | null {
  const value = flags.find((f) => f.name === "platform")?.value?.value;
  if (!value || flagValueVariable(value).variable) return null;
  return value;
}

/**
 * Not an image: `scratch`, a stage index (FROM and COPY --from only: mounts have no indexes), or a stage name.
 *
 * @example isNonImage("Build", new Set(["build"]), true) // true
 */
export function isNonImage(value: string, stages: ReadonlySet<string>, indexes: boolean): boolean {
  return value === "scratch" || (indexes && /^[+-]?\d+$/.test(value)) || stages.has(value.toLowerCase());
}

/**
 * `FROM image AS name` → the stage name, lower case.
 *
 * @example stageName("FROM a AS Build", [[5, 6], [7, 9], [10, 15]]) // "build"
 */
export function stageName(text: string, fields: ReadonlyArray<[number, number]>): string | null {
  const as = fields[1];
  const name = fields[2];
  if (!as || !name || text.slice(as[0], as[1]).toLowerCase() !== "as") return null;
  return text.slice(name[0], name[1]).toLowerCase();
}

/**
 * Source range of logical characters [a, b).
 *
 * @example span(logical, 5, 8) // [pos[5], pos[7] + 1]
 */
export function span(logical: Logical, a: number, b: number): [number, number] {
  const pos = logical.pos;
  if (a < b) return [pos[a] as number, (pos[b - 1] as number) + 1];
  const at = a < pos.length ? (pos[a] as number) : a > 0 ? (pos[a - 1] as number) + 1 : 0;
  return [at, at];
}

/**
 * The source range a value was read from, quotes included.
 *
 * @example wholeSpan(value) // [6, 16] for the quoted image of `FROM "python:3"`
 */
export function wholeSpan(v: Value): [number, number] {
  if (v.range) return span(v.logical, ...v.range);
  const at = v.word.at;
  if (at.length === 0) return [0, 0];
  return span(v.logical, at[0] as number, (at[at.length - 1] as number) + 1);
}

/**
 * Why a value's characters are not one contiguous run of the source text, or null when they are.
 *
 * @example splitReason(value, src.text) // "the reference is split by a line continuation"
 */
export function splitReason(v: Value, source: string): string | null {
  const at = v.word.at;
  const first = v.logical.pos[at[0] as number] as number;
  const last = v.logical.pos[at[at.length - 1] as number] as number;
  if (last - first === at.length - 1) return null;
  return /[\r\n]/.test(source.slice(first, last + 1))
    ? "the reference is split by a line continuation"
    : "the reference is written with quotes or escapes inside it";
}

/**
 * The raw text of a value's word (quotes included), as BuildKit's lexer reads it.
 *
 * @example rawText(value) // "\"${BASE}\""
 */
export function rawText(v: Value): string {
  const [a, b] = v.range ?? [0, v.logical.text.length];
  return v.logical.text.slice(a, b);
}

/**
 * The logical range of a word with variables that a digest can be appended to: the word itself, or the inside of
 * the double quotes around it; a reason when the word has other quotes or escapes or is split by a continuation.
 *
 * @example rawSpan(value, 92) // [5, 17] for `FROM golang:${GO}`
 */
export function rawSpan(v: Value, escape: number): [number, number] | string {
  const text = v.logical.text;
  let [a, b] = v.range ?? [0, text.length];
  if (b - a >= 2 && text[a] === '"' && text[b - 1] === '"') {
    a++;
    b--;
  }
  const raw = text.slice(a, b);
  if (raw.length === 0) return "empty reference";
  if (/['"]/.test(raw) || raw.includes(String.fromCharCode(escape))) {
    return "the reference is written with quotes or escapes inside it";
  }
  const pos = v.logical.pos;
  if ((pos[b - 1] as number) - (pos[a] as number) !== b - a - 1) return "the reference is split by a line continuation";
  return [a, b];
}
