// What every command runs with: where it writes, its environment, and what tests may replace.

import type { Scanner } from "../dockerfile/scan.js";
import type { SkippedFile } from "../local/read.js";
import { visible } from "../visible.js";
import { UsageError, type CommandName, type Values } from "./args.js";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTty: boolean;
}

/** What `main` runs with besides its arguments; tests inject a scanner that fails. */
export interface Deps {
  scan?: Scanner;
}

export interface Context {
  io: Io;
  env: NodeJS.ProcessEnv;
  deps: Deps;
}

export type Format = "text" | "json" | "github";

/**
 * The output format from `--json` / `--format`; `github` (workflow commands) only where there are findings to
 * annotate.
 *
 * @example outputFormat("check", { format: "github", ... }) // "github"
 */
export function outputFormat(command: CommandName, values: Values): Format {
  const format = values.format ?? (values.json ? "json" : "text");
  const allowed: Format[] = command === "pin" || command === "check" ? ["text", "json", "github"] : ["text", "json"];
  if (!allowed.includes(format as Format)) {
    const also = format === "github" ? " (github applies to pin and check)" : "";
    throw new UsageError(`${command}: --format must be ${allowed.join(", ").replace(/, (\w+)$/, " or $1")}, not "${format}"${also}`, command);
  }
  if (values.json && format !== "json") throw new UsageError(`${command}: --json and --format ${format} disagree`, command);
  return format as Format;
}

/** One stderr line per file passed over, for runs whose stdout is for machines (JSON, workflow commands). */
export function warnSkippedFiles(io: Io, skipped: readonly SkippedFile[]): void {
  for (const s of skipped) io.stderr(`digest-pin: skipping ${visible(s.path)}: ${s.detail}\n`);
}
