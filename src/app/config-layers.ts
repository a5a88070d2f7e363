// A repository's effective config: the organization's defaults (`.github/digest-pin.yml` in its `.github`
// repository), or the base its `_extends` names (Probot's convention: `repo` or `repo:path.yml`, same organization),
// with the repository's own file on top. Base files are read through `readFile`, which the app caches for the run
// (one query per installation and file, not per repository).

import { CONFIG_PATH, extendsOf, parseConfigLayers, type ConfigLayer, type ConfigResult } from "../github/config.js";

/** Reads a file on another repository's default branch of the same owner: its text, or null when there is none. */
export type ConfigFileReader = (owner: string, repo: string, path: string) => Promise<string | null>;

/** The organization's defaults live here. */
export const ORG_CONFIG_REPO = ".github";
/** Bases a chain of `_extends` may have, the organization's `.github` included. */
const MAX_BASES = 3;

export type LoadedConfig = ConfigResult & { sources?: string[] };

/**
 * The effective config of `owner/repo`, whose own file's text is `text` (null: none).
 *
 * @example await loadConfig("acme", "api", snapshot.configText, reader) // { ok: true, config, effective, sources }
 */
export async function loadConfig(
  owner: string,
  repo: string,
  text: string | null,
  read?: ConfigFileReader,
  byteSize?: number,
): Promise<LoadedConfig> {
  // A file too large to fetch is refused by its size alone (its text is then empty).
  const own: ConfigLayer = { name: CONFIG_PATH, text, ...(byteSize === undefined ? {} : { byteSize }) };
  if (!read) return withSources(parseConfigLayers([own]), [own]);
  const layers: ConfigLayer[] = [own];
  const seen = new Set([`${repo}:${CONFIG_PATH}`.toLowerCase()]);
  let next = extendsOf(text, owner) ?? (repo === ORG_CONFIG_REPO ? null : { repo: ORG_CONFIG_REPO, path: CONFIG_PATH });
  while (next !== null) {
    if ("error" in next) return { ok: false, error: next.error };
    const id = `${next.repo}:${next.path}`.toLowerCase();
    if (seen.has(id)) return { ok: false, error: `${CONFIG_PATH}: "_extends" goes round in a circle through ${owner}/${next.repo}` };
    if (seen.size > MAX_BASES) return { ok: false, error: `${CONFIG_PATH}: "_extends" names more than ${MAX_BASES} bases in a row` };
    seen.add(id);
    const base: ConfigLayer = { name: `${owner}/${next.repo}: ${next.path}`, text: await read(owner, next.repo, next.path) };
    layers.unshift(base);
    next = extendsOf(base.text, owner);
  }
  return withSources(parseConfigLayers(layers), layers);
}

function withSources(result: ConfigResult, layers: readonly ConfigLayer[]): LoadedConfig {
  return result.ok ? { ...result, sources: layers.filter((l) => l.text !== null && l.text.trim() !== "").map((l) => l.name) } : result;
}
