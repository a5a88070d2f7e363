// The pipeline's middle, shared by the CLI and the app: scanned files + repository config + a resolver → the plan.
// Both call runEngine, so `digest-pin check` in CI and the app decide alike on the same files and config: ignores
// (ignorePaths, ignoreImages and inline `digest-pin: ignore` comments), pinUnpinned and minimumAge.

import { scanDockerfile, ScanError, type Scanner } from "./dockerfile/scan.js";
import { ignoreMatcher, type RepoConfig } from "./github/config.js";
import { applyInlineIgnores } from "./ignore-comments.js";
import { plan, resolveRequests, type Plan, type PlanOptions, type ScannedFile } from "./plan.js";
import { parseReference } from "./reference.js";
import type { Resolution, Resolver } from "./registry/types.js";

export type Resolutions = Map<string, Resolution | Error>;

/**
 * One file's scan: its references (those under an inline `# digest-pin: ignore` marked skipped), or the reason it
 * could not be scanned (a ScanError becomes the file's error; anything else is a bug and is thrown).
 *
 * @example scanFile("Dockerfile", Buffer.from("FROM alpine:3.20\n")).references.length // 1
 */
export function scanFile(path: string, content: Uint8Array, scan: Scanner = scanDockerfile): ScannedFile {
  try {
    return { path, references: applyInlineIgnores(content, scan(content), "#") };
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    return { path, references: [], error: `could not be scanned: ${error.message}` };
  }
}

/** Ask the registry each distinct question once; failures become values, never "up to date". */
export async function resolveFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  onProgress?: (done: number, total: number) => void,
): Promise<Resolutions> {
  const requests = resolveRequests(files);
  const out: Resolutions = new Map();
  let done = 0;
  await Promise.all(
    requests.map(async (request) => {
      try {
        out.set(request.key, await resolver.resolve(request.reference, request.options));
      } catch (error) {
        out.set(request.key, error instanceof Error ? error : new Error(String(error)));
      }
      onProgress?.(++done, requests.length);
    }),
  );
  return out;
}

export interface EngineInput {
  /** Scanned files, paths relative to the scanned directory (`/` separators). */
  files: readonly ScannedFile[];
  /** The repository's config: pinUnpinned, ignorePaths, ignoreImages and minimumAge decide (labels etc. do not). */
  config: RepoConfig;
  resolver: Resolver;
  /** Digests declined for an image:tag (the app: PRs closed without merging). */
  declined?: PlanOptions["declined"];
  /** The clock minimumAge is measured with (default Date.now). */
  now?: () => number;
  /**
   * Where the scanned directory sits in the repository, `services/api/` (default "", the root): ignorePaths name
   * repository paths, as the app sees them, whatever directory the CLI was pointed at.
   */
  base?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface EngineRun {
  plan: Plan;
  /** The registry answers the plan was made from (the app fingerprints them for cheap drift checks). */
  resolutions: Resolutions;
}

/**
 * Which digests are younger than minimumAge. Unknown age counts as too new: adopting a digest early is the risk
 * minimumAge exists to avoid. Only the digests a plan would adopt are asked about.
 */
async function tooNewCheck(
  p: Plan,
  minimumAgeMs: number,
  resolver: Resolver,
  now: () => number,
): Promise<PlanOptions["isTooNew"]> {
  if (minimumAgeMs <= 0 || p.changes.length === 0) return undefined;
  const at = now();
  const young = new Set<string>();
  await Promise.all(
    [...new Set(p.changes.map((c) => `${c.image}@${c.newDigest}`))].map(async (key) => {
      const [image = "", digest = ""] = key.split("@");
      const ref = parseReference(image);
      const created =
        ref.ok && resolver.createdAt ? await resolver.createdAt(ref.value, digest).catch(() => null) : null;
      if (created === null || at - created.getTime() < minimumAgeMs) young.add(key);
    }),
  );
  return (image, _tag, digest) => young.has(`${image}@${digest}`);
}

/**
 * The engine: scanned files + config + resolver → the plan (pin, refresh, or skip with a reason, or an error), with
 * ignorePaths, ignoreImages, inline ignores (already marked by scanFile), pinUnpinned, declined digests and minimumAge.
 *
 * @example
 * const { plan } = await runEngine({ files: [scanFile("Dockerfile", bytes)], config: DEFAULT_CONFIG, resolver: client });
 * plan.changes[0]?.to // "alpine:3.20@sha256:…"
 */
export async function runEngine(input: EngineInput): Promise<EngineRun> {
  const { files, config, resolver } = input;
  const base = input.base ?? "";
  const ignored = ignoreMatcher(config);
  const options: PlanOptions = {
    pinUnpinned: config.pinUnpinned,
    isIgnored: base === "" ? ignored : (path, found) => ignored(base + path, found),
  };
  if (input.declined) options.declined = input.declined;
  const resolutions = await resolveFiles(files, resolver, input.onProgress);
  let result = plan(files, resolutions, options);
  const isTooNew = await tooNewCheck(result, config.minimumAgeMs, resolver, input.now ?? Date.now);
  if (isTooNew) result = plan(files, resolutions, { ...options, isTooNew });
  return { plan: result, resolutions };
}
