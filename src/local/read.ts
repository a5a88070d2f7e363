// The files of a local checkout that pin and check work on: every Dockerfile below a directory, or one file named on
// the command line, read with the app's limits (size, count, binary) so that both see the same files. What is passed
// over is listed with the reason, never dropped silently.

import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isBinary, MAX_FILE_BYTES, MAX_FILES } from "../github/files.js";
import { findDockerfiles, WalkError } from "./walk.js";

export type SkippedFileReason = "too-large" | "too-many" | "binary" | "unreadable";

export interface SkippedFile {
  /** Relative to the directory, `/` separators. */
  path: string;
  reason: SkippedFileReason;
  /** For people: "larger than 1 MiB", "permission denied (EACCES)". */
  detail: string;
}

export interface LocalFile {
  path: string;
  content: Buffer;
}

export interface LocalFiles {
  /** The directory the paths are relative to (for a single file: its folder, links resolved). */
  dir: string;
  files: LocalFile[];
  skippedFiles: SkippedFile[];
}

/** Why a target cannot be read at all (it does not exist, or is neither a directory nor a file). */
export class TargetError extends Error {
  override readonly name = "TargetError";
  readonly code = "TARGET_NOT_FOUND";
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOENT: "vanished while being read",
  EIO: "input/output error",
};

function unreadable(path: string, error: unknown): SkippedFile {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  return { path, reason: "unreadable", detail: `${ERRNO_TEXT[code] ?? "cannot be read"}${code ? ` (${code})` : ""}` };
}

const TOO_LARGE = `larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`;

/** One file's bytes, or why it is passed over (too large, unreadable, binary), as the app passes it over. */
async function readOne(full: string, path: string): Promise<LocalFile | SkippedFile> {
  try {
    const content = await readFile(full);
    // The size can grow between stat and read; the limit holds for what was read.
    if (content.length > MAX_FILE_BYTES) return { path, reason: "too-large", detail: TOO_LARGE };
    if (isBinary(content)) return { path, reason: "binary", detail: "a binary file (NUL bytes)" };
    return { path, content };
  } catch (error) {
    return unreadable(path, error);
  }
}

/**
 * The Dockerfiles of `target`: every one below it when it is a directory (links out of it not followed), or the file
 * itself, whatever its name, when it is a file. At most MAX_FILES are read; files over MAX_FILE_BYTES, binary files
 * and unreadable ones are listed in `skippedFiles`.
 *
 * @example const { dir, files, skippedFiles } = await readTarget("services/api/Dockerfile") // files[0].path "Dockerfile"
 */
export async function readTarget(target: string): Promise<LocalFiles> {
  let info;
  try {
    info = await stat(target);
  } catch (error) {
    throw new TargetError(`${target} does not exist or cannot be read`, { cause: error });
  }
  let dir: string;
  let paths: string[];
  if (info.isDirectory()) {
    dir = target;
    try {
      paths = await findDockerfiles(target);
    } catch (error) {
      if (error instanceof WalkError) throw new TargetError(error.message, { cause: error });
      throw error;
    }
  } else if (info.isFile()) {
    // A link is followed to its file, and the file is then what is read, written and reported.
    const real = await realpath(target);
    dir = dirname(real);
    paths = [basename(real)];
  } else {
    throw new TargetError(`${target} is neither a directory nor a file`);
  }
  const out: LocalFiles = { dir, files: [], skippedFiles: [] };
  // As the app reads a repository: files over the size limit are passed over first, then at most MAX_FILES are read.
  let chosen = 0;
  for (const path of paths) {
    const full = join(dir, path);
    const size = await stat(full).then((s) => s.size, (error: unknown) => error);
    if (typeof size !== "number") out.skippedFiles.push(unreadable(path, size));
    else if (size > MAX_FILE_BYTES) out.skippedFiles.push({ path, reason: "too-large", detail: TOO_LARGE });
    else if (chosen >= MAX_FILES) out.skippedFiles.push({ path, reason: "too-many", detail: `more than ${MAX_FILES} Dockerfiles` });
    else {
      chosen++;
      const read = await readOne(full, path);
      if ("content" in read) out.files.push(read);
      else out.skippedFiles.push(read);
    }
  }
  return out;
}
