// pin's last step: a plan's edits written to the files of a local checkout. What was scanned is what gets edited,
// or nothing is written to that file: the file is opened at its real path, which must still be inside the checkout,
// without following a link, and must be a regular file; the bytes at every edit must still be the reference text the
// plan saw; the new content goes to a new file in the same folder (same mode), renamed over the original.

import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, open, realpath, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { applyEdits, RewriteError } from "../dockerfile/rewrite.js";
import type { Edit } from "../dockerfile/types.js";
import { editsFor, type Plan, type PlanError } from "../plan.js";

export type WriteErrorCode =
  | "FILE_CHANGED" // the file is gone, or its bytes are not what the scan read
  | "UNSAFE_PATH" // the path leads out of the checkout, through a new link, or to something other than a file
  | "WRITE_FAILED"; // the file system refused (permissions, space, …)

export class WriteError extends Error {
  override readonly name = "WriteError";

  constructor(
    readonly code: WriteErrorCode,
    /** The file's path relative to the checkout. */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The file's real path, which must be inside the checkout (the same rule the walk that found it follows). */
async function realPathInside(root: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(root, path));
  } catch (error) {
    if (errno(error) === "ENOENT") throw new WriteError("FILE_CHANGED", path, `${path} is gone since it was scanned`, { cause: error });
    throw new WriteError("UNSAFE_PATH", path, `${path} cannot be resolved`, { cause: error });
  }
  if (!inside(root, real)) throw new WriteError("UNSAFE_PATH", path, `${path} now leads outside the directory`);
  return real;
}

/** Opens `real` for reading, refusing a link (one swapped in since it was resolved) and anything but a file. */
async function openRegular(real: string, path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO put there must not hang the command.
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === "ELOOP") throw new WriteError("UNSAFE_PATH", path, `${path} became a symbolic link`, { cause: error });
    if (errno(error) === "ENOENT") throw new WriteError("FILE_CHANGED", path, `${path} is gone since it was scanned`, { cause: error });
    throw error;
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new WriteError("UNSAFE_PATH", path, `${path} is no longer a regular file`);
  }
  return handle;
}

/** Writes `content` to a new file beside `real` and renames it over `real`, unless `real` changed since `read`. */
async function replace(real: string, path: string, content: Buffer, read: Stats): Promise<void> {
  const temp = join(dirname(real), `.${basename(real)}.digest-pin-${randomBytes(6).toString("hex")}`);
  const out = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      await out.writeFile(content);
      await out.chmod(read.mode & 0o7777);
      // Keep the owner when allowed to (only a privileged user may give a file away).
      if (read.uid !== process.getuid?.() || read.gid !== process.getgid?.()) await out.chown(read.uid, read.gid).catch(() => undefined);
      await out.sync();
    } finally {
      await out.close();
    }
    // Once more just before the rename: still the file that was read (an edit since leaves other times or sizes).
    const now = await lstat(real);
    if (!now.isFile() || now.ino !== read.ino || now.dev !== read.dev || now.size !== read.size || now.mtimeMs !== read.mtimeMs) {
      throw new WriteError("FILE_CHANGED", path, `${path} changed while it was being written`);
    }
    await rename(temp, real);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Apply `edits` (each with the text it replaces) to the file `path` below `root`, or throw a WriteError and write
 * nothing to it.
 *
 * @example await rewriteFile("/src/app", "Dockerfile", editsFor(plan.changes, "Dockerfile"))
 */
export async function rewriteFile(root: string, path: string, edits: readonly Edit[]): Promise<void> {
  const realRoot = await realpath(root);
  const real = await realPathInside(realRoot, path);
  const handle = await openRegular(real, path);
  let content: Buffer;
  let read: Stats;
  try {
    read = await handle.stat();
    const bytes = await handle.readFile();
    try {
      content = applyEdits(bytes, edits);
    } catch (error) {
      if (!(error instanceof RewriteError)) throw error;
      throw new WriteError("FILE_CHANGED", path, `${path} changed since it was scanned (${error.message})`, { cause: error });
    }
  } finally {
    await handle.close();
  }
  await replace(real, path, content, read);
}

/**
 * Write the plan's changes below `root`. A file that cannot be written as planned keeps its bytes: its changes become
 * one error (the code of its WriteError) and the others are written all the same.
 *
 * @example const written = await writePlan(dir, plan); if (written.errors.length > 0) process.exitCode = 2;
 */
export async function writePlan(root: string, plan: Plan): Promise<Plan> {
  const failed = new Set<string>();
  const errors: PlanError[] = [];
  for (const path of new Set(plan.changes.map((c) => c.path))) {
    try {
      await rewriteFile(root, path, editsFor(plan.changes, path));
    } catch (error) {
      const e = error instanceof WriteError ? error : new WriteError("WRITE_FAILED", path, `${path}: ${(error as Error).message}`, { cause: error });
      const first = plan.changes.find((c) => c.path === path);
      failed.add(path);
      errors.push({ path, line: first?.line ?? 1, text: first?.from ?? "", error: e.message, code: e.code });
    }
  }
  return { ...plan, changes: plan.changes.filter((c) => !failed.has(c.path)), errors: [...plan.errors, ...errors] };
}
