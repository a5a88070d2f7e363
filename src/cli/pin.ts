// `digest-pin pin|check [DIR|FILE]`: the engine the app runs, on a local checkout with its config. pin writes the
// changes; check writes nothing and exits 1 when there is anything to change (a CI gate), 2 on any error.

import { runEngine, scanFile } from "../engine.js";
import { loadLocalConfig } from "../local/config.js";
import { readTarget } from "../local/read.js";
import { writePlan } from "../local/write.js";
import type { Plan } from "../plan.js";
import { planJson, renderPlan, type PlanContext } from "../cli-output.js";
import { annotationRoot, renderAnnotations } from "../cli-annotations.js";
import { safeJson, visible } from "../visible.js";
import type { Values } from "./args.js";
import type { CommandLineRun } from "./main.js";
import { outputFormat, warnSkippedFiles, type Context, type Format } from "./context.js";
import { clientFromFlags, forCli } from "./registry.js";
import { MemoResolver } from "../registry/shared.js";

/** An argument as a POSIX shell reads it back: bare when plain, else in single quotes. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `pin` command that makes the changes a `check` found: the same target, registry flags and config choice.
 *
 * @example fixCommand(["services/api"], { "insecure-registry": ["localhost:5000"], mirror: [] })
 *   // "digest-pin pin services/api --insecure-registry localhost:5000"
 */
export function fixCommand(positionals: readonly string[], values: Values): string {
  const args = ["digest-pin", "pin", ...positionals];
  for (const host of values["insecure-registry"]) args.push("--insecure-registry", host);
  for (const mirror of values.mirror) args.push("--mirror", mirror);
  if (values["auth-file"] !== undefined) args.push("--auth-file", values["auth-file"]);
  if (values["no-pin-unpinned"]) args.push("--no-pin-unpinned");
  if (values.config !== undefined) args.push("--config", values.config);
  if (values["no-config"]) args.push("--no-config");
  return args.map(shellWord).join(" ");
}

const EMPTY: Plan = { changes: [], skipped: [], errors: [], current: [] };

function render(
  command: "pin" | "check",
  format: Format,
  result: Plan,
  context: PlanContext & { dir: string; fix: string; wide: boolean },
): string {
  if (format === "github") {
    return renderAnnotations(result, { root: annotationRoot(context.dir, process.cwd()), skippedFiles: context.skippedFiles });
  }
  if (format === "json") return `${safeJson(planJson(result, context), 2)}\n`;
  return renderPlan(result, command, { wide: context.wide, skippedFiles: context.skippedFiles, fix: context.fix });
}

/** Exit 0 done (or nothing to change), 1 (`check`) something to pin or refresh, 2 an error. */
export async function pinCommand(line: CommandLineRun, { io, env, deps }: Context): Promise<number> {
  const command = line.command as "pin" | "check";
  const { values } = line;
  const format = outputFormat(command, values);
  const client = clientFromFlags(values, env);
  try {
    const local = await readTarget(line.positionals[0] ?? ".");
    const found = await loadLocalConfig(local.dir, {
      ...(values.config !== undefined ? { path: values.config } : {}),
      none: values["no-config"] ?? false,
    });
    const context = {
      dir: local.dir,
      files: local.files.length,
      skippedFiles: local.skippedFiles,
      config: { path: found.path, enabled: found.config.enabled },
      fix: fixCommand(line.positionals, values),
      wide: values.wide ?? false,
    };
    if (format !== "text") warnSkippedFiles(io, local.skippedFiles);
    if (!found.config.enabled) {
      // As the app: a repository whose config says `enabled: false` is left alone.
      const note = `${visible(found.path ?? "the config")} says enabled: false: nothing to ${command} (--no-config ignores it).\n`;
      if (format === "text") io.stdout(note);
      else {
        io.stderr(`digest-pin: ${note}`);
        io.stdout(render(command, format, EMPTY, { ...context, files: 0 }));
      }
      return 0;
    }
    const config = values["no-pin-unpinned"] ? { ...found.config, pinUnpinned: false } : found.config;
    const files = local.files.map((f) => scanFile(f.path, f.content, deps.scan));
    const progress = io.isTty
      ? (done: number, total: number) => io.stderr(`\rresolving ${done}/${total}${done === total ? "\n" : ""}`)
      : undefined;
    let { plan: result } = await runEngine({
      files,
      config,
      // One run: each distinct tag is read from its registry once, however many references and pins share it.
      resolver: new MemoResolver(client),
      base: found.base,
      ...(progress ? { onProgress: progress } : {}),
    });
    if (command === "pin") result = await writePlan(local.dir, result);
    result = { ...result, errors: result.errors.map((e) => ({ ...e, error: forCli(e.error) })) };
    io.stdout(render(command, format, result, context));
    if (result.errors.length > 0) return 2;
    return command === "check" && result.changes.length > 0 ? 1 : 0;
  } finally {
    await client.close();
  }
}
