// The repository config for a local checkout, `.github/digest-pin.yml`, found and read the way the app reads it from
// GitHub, so that `digest-pin check` in CI and the app decide alike. The same parser and the same messages.

import { constants } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { MAX_FILE_BYTES } from "../github/files.js";
import { CONFIG_PATH, DEFAULT_CONFIG, parseConfig, type RepoConfig } from "../github/config.js";

export type ConfigErrorCode =
  | "CONFIG_INVALID" // the parser's verdict: the same message the app's configuration issue quotes
  | "CONFIG_UNREADABLE"; // missing (--config), not a regular file, too large, or the file system refused

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface LocalConfig {
  /** The file read, as the user would name it (null: none, the defaults apply). */
  path: string | null;
  config: RepoConfig;
  /**
   * Where the scanned directory sits below the repository root (`services/api/`, or ""), so that ignorePaths match
   * repository paths as in the app.
   */
  base: string;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The directories from `dir` up to the root of the git checkout it is in (the first with a `.git`), nearest first;
 * only `dir` itself when it is in no checkout, so that a config above an unrelated folder never applies.
 */
async function upToGitRoot(dir: string): Promise<string[]> {
  const chain: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    chain.push(at);
    if (await exists(join(at, ".git"))) return chain;
    if (dirname(at) === at) return [dir];
  }
}

function basePath(root: string, dir: string): string {
  const rel = relative(root, dir);
  return rel === "" ? "" : `${rel.split(sep).join("/")}/`;
}

/**
 * The config file's text, read like any repository content: a regular file (a link, which GitHub would not read as
 * the config either, is refused unless the user named it), at most MAX_FILE_BYTES, never a FIFO that would hang.
 */
async function readConfigText(path: string, followLink: boolean): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (followLink ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "ELOOP" ? "is a symbolic link" : `cannot be read (${code ?? "error"})`;
    throw new ConfigError("CONFIG_UNREADABLE", `${path} ${why}`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ConfigError("CONFIG_UNREADABLE", `${path} is not a regular file`);
    if (info.size > MAX_FILE_BYTES) throw new ConfigError("CONFIG_UNREADABLE", `${path} is larger than 1 MiB`);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(Number(info.size) + 1), 0, Number(info.size) + 1, 0);
    if (bytesRead > info.size) throw new ConfigError("CONFIG_UNREADABLE", `${path} changed while it was read`);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

function parsed(text: string, path: string): RepoConfig {
  const result = parseConfig(text);
  if (result.ok) return result.config;
  // The app's message names `.github/digest-pin.yml`; a file chosen with --config is named as the user named it.
  const message = result.error.startsWith(CONFIG_PATH) ? path + result.error.slice(CONFIG_PATH.length) : result.error;
  throw new ConfigError("CONFIG_INVALID", message);
}

export interface ConfigChoice {
  /** `--config PATH`: this file (it must exist). */
  path?: string;
  /** `--no-config`: the defaults, whatever the checkout holds. */
  none?: boolean;
}

/**
 * The config that applies to `dir` (a directory being scanned): `--config PATH` when given, the defaults with
 * `--no-config`, else the nearest `.github/digest-pin.yml` from `dir` up to the root of its git checkout. The
 * directory holding that `.github` is the repository root that ignorePaths are relative to.
 *
 * @example (await loadLocalConfig("repo/services/api")).base // "services/api/" when repo/.github/digest-pin.yml exists
 */
export async function loadLocalConfig(dir: string, choice: ConfigChoice = {}): Promise<LocalConfig> {
  const real = await realpath(dir);
  const chain = await upToGitRoot(real);
  const root = chain.at(-1) ?? real;
  if (choice.none) return { path: null, config: structuredClone(DEFAULT_CONFIG), base: basePath(root, real) };
  if (choice.path !== undefined) {
    return { path: choice.path, config: parsed(await readConfigText(choice.path, true), choice.path), base: basePath(root, real) };
  }
  for (const at of chain) {
    const candidate = join(at, CONFIG_PATH);
    if (!(await exists(candidate))) continue;
    // Through a linked `.github`, GitHub would not find the file either (and it may lead out of the checkout).
    const folder = dirname(candidate);
    if ((await realpath(folder).catch(() => folder)) !== folder) {
      throw new ConfigError("CONFIG_UNREADABLE", `${candidate} is reached through a symbolic link (${folder})`);
    }
    const rel = relative(process.cwd(), candidate);
    const shown = rel === "" || rel.startsWith("..") ? candidate : rel;
    return { path: shown, config: parsed(await readConfigText(candidate, false), shown), base: basePath(at, real) };
  }
  return { path: null, config: structuredClone(DEFAULT_CONFIG), base: basePath(root, real) };
}
