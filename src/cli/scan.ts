// `digest-pin scan [DIR|FILE]`: the references of the files, with their status. No registry, no config, no writes.

import { scanFile } from "../engine.js";
import { readTarget } from "../local/read.js";
import { renderScan, scanJson } from "../cli-output.js";
import { safeJson } from "../visible.js";
import type { CommandLineRun } from "./main.js";
import { outputFormat, warnSkippedFiles, type Context } from "./context.js";

/** Exit 0, or 2 when a file could not be scanned. */
export async function scanCommand(line: CommandLineRun, { io, deps }: Context): Promise<number> {
  const format = outputFormat("scan", line.values);
  const local = await readTarget(line.positionals[0] ?? ".");
  const files = local.files.map((f) => scanFile(f.path, f.content, deps.scan));
  if (format === "json") {
    warnSkippedFiles(io, local.skippedFiles);
    io.stdout(`${safeJson(scanJson(files, local.skippedFiles), 2)}\n`);
  } else {
    io.stdout(renderScan(files, { wide: line.values.wide ?? false, skippedFiles: local.skippedFiles }));
  }
  return files.some((f) => f.error !== undefined) ? 2 : 0;
}
