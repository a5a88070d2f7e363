// The command-line tool: digest-pin scan|resolve|pin|check. This file only reads the command line and dispatches;
// each command is its own module, the help texts are help.ts, the option rules args.ts.

import { ConfigError } from "../local/config.js";
import { TargetError } from "../local/read.js";
import { readPackageFile } from "../package-files.js";
import { RegistryConfigError } from "../registry/options.js";
import { RegistryError } from "../registry/types.js";
import { visible } from "../visible.js";
import { parseCommandLine, UsageError, type CommandLine, type CommandName } from "./args.js";
import type { Context, Deps, Io } from "./context.js";
import { commandHelp, USAGE } from "./help.js";
import { pinCommand } from "./pin.js";
import { forCli } from "./registry.js";
import { resolveCommand } from "./resolve.js";
import { scanCommand } from "./scan.js";

export type { Deps, Io } from "./context.js";
export type CommandLineRun = Extract<CommandLine, { kind: "run" }>;

const RUN: Record<CommandName, (line: CommandLineRun, context: Context) => Promise<number>> = {
  scan: scanCommand,
  resolve: resolveCommand,
  pin: pinCommand,
  check: pinCommand,
};

function version(): string {
  return (JSON.parse(readPackageFile("package.json")) as { version: string }).version;
}

/** Errors the user can act on: their message, without a stack. Anything else is a bug and says so. */
function isExpected(error: unknown): error is Error {
  return (
    error instanceof RegistryError ||
    error instanceof RegistryConfigError ||
    error instanceof ConfigError ||
    error instanceof TargetError
  );
}

/**
 * Run the command line `argv` (without node and the script) and give the exit code: 0 ok, 1 (`check`) something to
 * change, 2 an error (usage, configuration, registry, files).
 *
 * @example await main(["check", ".", "--json"], process.env, io) // 0, 1 or 2
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, deps: Deps = {}): Promise<number> {
  try {
    const line = parseCommandLine(argv);
    if (line.kind === "version") {
      io.stdout(`${version()}\n`);
      return 0;
    }
    if (line.kind === "help") {
      // No command at all is a mistake (exit 2), asking for help is not.
      if (line.bare) io.stderr(USAGE);
      else io.stdout(line.command ? commandHelp(line.command) : USAGE);
      return line.bare ? 2 : 0;
    }
    return await RUN[line.command](line, { io, env, deps });
  } catch (error) {
    // Messages quote arguments, file names and registry text: control characters are shown, not sent.
    if (error instanceof UsageError) {
      io.stderr(`digest-pin: ${visible(error.message)}\n${error.command ? `${error.hint()}\n` : `\n${USAGE}`}`);
    } else if (isExpected(error)) {
      io.stderr(`digest-pin: ${visible(forCli(error.message))}\n`);
    } else {
      io.stderr(`digest-pin: unexpected error: ${visible((error as Error)?.message ?? String(error))}\n`);
    }
    return 2;
  }
}
