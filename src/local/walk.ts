// Find the Dockerfiles of a local checkout. Follows no symbolic link out of the root.

import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { isDockerfilePath } from "../dockerfile/files.js";

const SKIPPED_DIRS = new Set([".git", "node_modules"]);

export class WalkError extends Error {
  override readonly name = "WalkError";
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Relative paths (`/` separators, sorted) of the Dockerfiles below `dir`, each file listed once. Every real
 * directory is walked before any link is followed, so a file's own path wins over a path through a link (whatever
 * order the file system lists entries in), and a file that links also name is not edited twice.
 */
export async function findDockerfiles(dir: string): Promise<string[]> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new WalkError(`${dir} is not a directory`);
  } catch (error) {
    if (error instanceof WalkError) throw error;
    throw new WalkError(`${dir} does not exist or cannot be read`);
  }
  /** Real path of each Dockerfile → the path it is listed under. */
  const found = new Map<string, string>();
  const walked = new Set<string>();
  /** Links met on the way, followed after the real tree (and appended to while following). */
  const links: { at: string; shown: string; name: string }[] = [];
  const add = (real: string, shown: string) => {
    if (!found.has(real)) found.set(real, shown);
  };

  // `real` is always a real path (the root's realpath, its real subdirectories, or a link's resolved target).
  async function walk(real: string, shown: string): Promise<void> {
    if (walked.has(real)) return;
    walked.add(real);
    const entries = await readdir(real, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const at = join(real, entry.name);
      const path = join(shown, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(at, path);
      } else if (entry.isFile()) {
        if (isDockerfilePath(entry.name)) add(at, path);
      } else if (entry.isSymbolicLink()) {
        links.push({ at, shown: path, name: entry.name });
      }
    }
  }

  await walk(root, root);
  for (let i = 0; i < links.length; i++) {
    const { at, shown, name } = links[i] as (typeof links)[number];
    const target = await realpath(at).catch(() => null);
    if (target === null || !inside(root, target)) continue;
    const info = await lstat(target).catch(() => null);
    if (info?.isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) await walk(target, shown);
    } else if (info?.isFile() && isDockerfilePath(name)) {
      add(target, shown);
    }
  }
  return [...found.values()].map((p) => relative(root, p).split(sep).join("/")).sort();
}
