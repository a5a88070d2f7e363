// The command line, read the way people expect from crane, skopeo or git: each command takes its own options, and an
// unknown option, a value where none belongs, a missing value or an extra argument is an error that says what was
// wrong, suggests the likely intended spelling and points at the command's --help. Node's parseArgs reads the tokens
// (so `--opt=value`, `--` and short options behave as usual); the judging is ours.

import { parseArgs } from "node:util";

export type CommandName = "scan" | "resolve" | "pin" | "check";
export const COMMANDS: readonly CommandName[] = ["scan", "resolve", "pin", "check"];

interface OptionSpec {
  type: "boolean" | "string";
  multiple?: boolean;
  short?: string;
}

/** Every option any command takes; which command takes which is COMMAND_OPTIONS. */
export const OPTIONS = {
  json: { type: "boolean" },
  format: { type: "string" },
  wide: { type: "boolean" },
  platform: { type: "string" },
  "insecure-registry": { type: "string", multiple: true },
  mirror: { type: "string", multiple: true },
  "auth-file": { type: "string" },
  "no-pin-unpinned": { type: "boolean" },
  config: { type: "string" },
  "no-config": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

const REGISTRY: OptionName[] = ["insecure-registry", "mirror", "auth-file"];
const COMMON: OptionName[] = ["help", "version"];

export const COMMAND_OPTIONS: Record<CommandName, readonly OptionName[]> = {
  scan: ["json", "format", "wide", ...COMMON],
  resolve: ["json", "format", "platform", ...REGISTRY, ...COMMON],
  pin: ["json", "format", "wide", ...REGISTRY, "no-pin-unpinned", "config", "no-config", ...COMMON],
  check: ["json", "format", "wide", ...REGISTRY, "no-pin-unpinned", "config", "no-config", ...COMMON],
};

/** How many arguments each command takes besides options, and what they are called in messages. */
const POSITIONALS: Record<CommandName, { min: number; max: number; name: string }> = {
  scan: { min: 0, max: 1, name: "DIR or FILE" },
  resolve: { min: 1, max: 1, name: "REFERENCE" },
  pin: { min: 0, max: 1, name: "DIR or FILE" },
  check: { min: 0, max: 1, name: "DIR or FILE" },
};

/** A mistake on the command line: exit code 2, the message, and where to read more. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "USAGE";
  constructor(
    message: string,
    /** The command whose --help the hint points at (none: the general one). */
    readonly command?: CommandName,
  ) {
    super(message);
  }

  /** The line after the message: `Run "digest-pin check --help" for its options and examples.` */
  hint(): string {
    return this.command
      ? `Run "digest-pin ${this.command} --help" for its options and examples.`
      : `Run "digest-pin --help" for the commands.`;
  }
}

export interface Values {
  json?: boolean;
  format?: string;
  wide?: boolean;
  platform?: string;
  "insecure-registry": string[];
  mirror: string[];
  "auth-file"?: string;
  "no-pin-unpinned"?: boolean;
  config?: string;
  "no-config"?: boolean;
}

export type CommandLine =
  | { kind: "version" }
  | { kind: "help"; command?: CommandName; bare?: boolean }
  | { kind: "run"; command: CommandName; values: Values; positionals: string[]; argv: readonly string[] };

/** Optimal string alignment distance (edits, with adjacent swaps counted as one), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidate closest to what was typed, when it is close enough to be a slip (or what was typed is its prefix).
 *
 * @example suggest("jsn", ["json", "wide"]) // "json"
 */
export function suggest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = typed.length >= 2 && name.startsWith(typed) ? 0.5 : distance(typed, name);
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

const didYouMean = (name: string | undefined, prefix = "") => (name ? ` (did you mean ${prefix}${name}?)` : "");

/** The option as the user typed it (`-h` or `--help`), for messages. */
function flagName(token: { rawName: string }): string {
  return token.rawName;
}

/**
 * Read `argv` (without the node and script paths). Throws UsageError for anything a command does not take.
 *
 * @example parseCommandLine(["check", ".", "--jsn"]) // throws: unknown option --jsn (did you mean --json?)
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const options: Array<{ name: string; rawName: string; value: string | undefined; inlineValue: boolean | undefined }> = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    else if (token.kind === "option") options.push(token);
  }
  const given = new Set(options.map((o) => o.name));
  const [first, ...rest] = positionals;
  if (given.has("version")) return { kind: "version" };

  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) return { kind: "help" };
    if (!COMMANDS.includes(topic as CommandName)) {
      throw new UsageError(`no help for "${topic}": it is not a command${didYouMean(suggest(topic, COMMANDS))}`);
    }
    return { kind: "help", command: topic as CommandName };
  }
  if (first === undefined) {
    if (given.has("help")) return { kind: "help" };
    const unknown = options.find((o) => !(o.name in OPTIONS));
    if (unknown) throw new UsageError(`unknown option ${flagName(unknown)}; options follow a command`);
    return { kind: "help", bare: true };
  }
  if (!COMMANDS.includes(first as CommandName)) {
    throw new UsageError(`unknown command "${first}"${didYouMean(suggest(first, COMMANDS))}`);
  }
  const command = first as CommandName;
  if (given.has("help")) return { kind: "help", command };

  const allowed = COMMAND_OPTIONS[command];
  const values: Values = { "insecure-registry": [], mirror: [] };
  for (const option of options) {
    const name = option.name as OptionName;
    if (!(name in OPTIONS)) {
      const offered = allowed.map((n) => `--${n}`);
      throw new UsageError(`${command}: unknown option ${flagName(option)}${didYouMean(suggest(flagName(option), offered))}`, command);
    }
    if (!allowed.includes(name)) {
      const takers = COMMANDS.filter((c) => COMMAND_OPTIONS[c].includes(name));
      throw new UsageError(`${command}: ${flagName(option)} does not apply here (it is an option of ${takers.join(", ")})`, command);
    }
    const spec: OptionSpec = OPTIONS[name];
    if (spec.type === "boolean") {
      if (option.inlineValue) throw new UsageError(`${command}: ${flagName(option)} takes no value`, command);
      (values as unknown as Record<string, boolean>)[name] = true;
      continue;
    }
    if (option.value === undefined || (!option.inlineValue && option.value.startsWith("-") && option.value !== "-")) {
      const hint = option.value === undefined ? "" : ` (for a value that starts with "-", write ${flagName(option)}=VALUE)`;
      throw new UsageError(`${command}: ${flagName(option)} needs a value${hint}`, command);
    }
    if (spec.multiple) (values as unknown as Record<string, string[]>)[name]?.push(option.value);
    else (values as unknown as Record<string, string>)[name] = option.value;
  }

  const expected = POSITIONALS[command];
  if (rest.length < expected.min) {
    throw new UsageError(`${command} needs a ${expected.name}`, command);
  }
  if (rest.length > expected.max) {
    const extra = rest.slice(expected.max).map((r) => `"${r}"`).join(", ");
    throw new UsageError(`${command} takes one ${expected.name}; unexpected: ${extra}`, command);
  }
  if (values.config !== undefined && values["no-config"]) {
    throw new UsageError(`${command}: --config and --no-config cannot be used together`, command);
  }
  return { kind: "run", command, values, positionals: rest, argv };
}
