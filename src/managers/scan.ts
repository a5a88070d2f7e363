// A repository's files → their references, each file by its manager. Two passes: first every file that is not a
// Dockerfile (workflows, compose files and GitLab CI also say which build arguments the repository passes), then
// the Dockerfiles, which need those. GitLab CI's local includes are read by the GitLab CI manager, whatever their
// name. Pure: the caller reads the files (and, for includes it did not read, may read them and scan again).

import type { ScannedFile } from "../plan.js";
import { DEFAULT_MANAGERS, type ManagersConfig } from "./config.js";
import { managerById, selectManagers } from "./index.js";
import type { BuildArgUse, FileSkipReason, Manager, ManagerId } from "./types.js";

export interface FileInput {
  /** Repository path, `/` separators. */
  path: string;
  content: Uint8Array;
}

/** A scanned file, with the manager that read it. */
export interface ManagedFile extends ScannedFile {
  manager: ManagerId;
}

/** A file a manager did not read, and why. */
export interface SkippedFile {
  path: string;
  manager: ManagerId;
  reason: FileSkipReason;
  detail: string;
}

export interface ScanResult {
  /** Every file an enabled manager read (with or without references), in input order. */
  files: ManagedFile[];
  skipped: SkippedFile[];
  /** The build arguments the repository passes, with where. */
  buildArgs: BuildArgUse[];
  /** GitLab CI local includes that were not among the inputs (read them and scan again to cover them). */
  missingIncludes: string[];
}

/** One step per file, so that the async form can give the event loop a turn between files. */
function* scanSteps(inputs: readonly FileInput[], config: ManagersConfig, out: ScanResult): Generator<void, void, void> {
  const selection = selectManagers(config);
  const byPath = new Map(inputs.map((f) => [f.path, f]));
  const gitlab = managerById("gitlab-ci");
  /** Files already read, and by whom: a GitLab include is read once, by the GitLab CI manager. */
  const forced = new Map<string, Manager>();
  const done = new Set<string>();
  const results = new Map<string, ManagedFile | SkippedFile | null>();
  const missing = new Set<string>();
  // GitLab CI roots first, then what they include, so that an include is read as GitLab CI.
  const queue: string[] = inputs.filter((f) => selection.managerFor(f.path)?.id === "gitlab-ci").map((f) => f.path);

  const read = (file: FileInput, manager: Manager, forReferences: boolean) => {
    done.add(file.path);
    const extraction = manager.extract(file.content, { path: file.path, buildArgs: out.buildArgs });
    if (extraction.buildArgs) out.buildArgs.push(...extraction.buildArgs);
    for (const include of extraction.includes ?? []) {
      if (forced.has(include) || done.has(include)) continue;
      forced.set(include, manager);
      if (byPath.has(include)) queue.push(include);
      else missing.add(include);
    }
    if (!forReferences) return results.set(file.path, null);
    if (extraction.skipped) {
      results.set(file.path, { path: file.path, manager: manager.id, ...extraction.skipped });
    } else {
      results.set(file.path, { path: file.path, manager: manager.id, references: extraction.references });
    }
  };

  for (let i = 0; i < queue.length; i++) {
    const file = byPath.get(queue[i] as string) as FileInput;
    if (done.has(file.path)) continue;
    read(file, gitlab, config["gitlab-ci"].enabled);
    yield;
  }
  const dockerfiles: Array<[FileInput, Manager]> = [];
  for (const file of inputs) {
    if (done.has(file.path)) continue;
    const manager = forced.get(file.path) ?? selection.managerFor(file.path);
    if (manager?.id === "dockerfile") {
      dockerfiles.push([file, manager]);
      continue;
    }
    if (manager) read(file, manager, config[manager.id].enabled);
    else {
      const source = selection.buildArgSourceFor(file.path);
      if (source) read(file, source, false);
    }
    yield;
  }
  for (const [file, manager] of dockerfiles) {
    read(file, manager, true);
    yield;
  }
  for (const file of inputs) {
    const result = results.get(file.path);
    if (!result) continue;
    if ("reason" in result) out.skipped.push(result);
    else out.files.push(result);
  }
  out.missingIncludes = [...missing].filter((p) => !byPath.has(p));
}

function emptyResult(): ScanResult {
  return { files: [], skipped: [], buildArgs: [], missingIncludes: [] };
}

/**
 * Scan a repository's files with the managers `config` enables.
 *
 * @example
 * scanFiles([{ path: "Dockerfile", content: Buffer.from("FROM python:3.12\n") }]).files[0]?.references[0]?.text // "python:3.12"
 */
export function scanFiles(inputs: readonly FileInput[], config: ManagersConfig = DEFAULT_MANAGERS): ScanResult {
  const out = emptyResult();
  for (const _ of scanSteps(inputs, config, out));
  return out;
}

/**
 * The same as scanFiles, giving the event loop a turn whenever one slice of work has run `sliceMs` (a repository's
 * files can take a while; one file is bounded by its size cap).
 */
export async function scanFilesAsync(
  inputs: readonly FileInput[],
  config: ManagersConfig = DEFAULT_MANAGERS,
  sliceMs = 10,
): Promise<ScanResult> {
  const out = emptyResult();
  let sliceStart = performance.now();
  for (const _ of scanSteps(inputs, config, out)) {
    if (performance.now() - sliceStart < sliceMs) continue;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  }
  return out;
}
