// The pipeline's middle, shared by the CLI and the app: scanned files + repository config + a resolver → the plan.
// Both call runEngine, so `digest-pin check` in CI and the app decide alike on the same files and config: ignores
// (ignorePaths, ignoreImages and inline `digest-pin: ignore` comments), pinUnpinned and minimumAge.

import { forEachBounded } from "./bounded.js";
import { scanDockerfile, ScanError, type Scanner } from "./dockerfile/scan.js";
import { ignoreDecisions, type RepoConfig } from "./github/config.js";
import { applyInlineIgnores } from "./ignore-comments.js";
import {
  plan,
  resolveRequests,
  type Change,
  type Plan,
  type PlanOptions,
  type ReferenceLimits,
  type ScannedFile,
} from "./plan.js";
import { refKey } from "./github/marker.js";
import { applyMinimumAge } from "./minimum-age.js";
import { imageName } from "./reference.js";
import { RegistryError, timeoutOf, type Resolution, type Resolver } from "./registry/types.js";
import { describeUpdates, unchangedForPlatforms, withReview } from "./review.js";
import type { TagHistory } from "./state/tag-history.js";
import { inWindow } from "./update-window.js";

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

/**
 * Resolutions in flight at once for one call: as many as the registry client's default limit over all hosts, so a
 * single scan can use all of it; more would only wait inside the client.
 */
export const RESOLVE_CONCURRENCY = 32;

export interface ResolveFilesOptions {
  /** The deadline of the whole stage (a repository scan's): when it aborts, what is left fails with TIMEOUT. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Resolutions in flight at once (default RESOLVE_CONCURRENCY). */
  concurrency?: number;
  /** Caps on references per file and per repository (default REFERENCE_LIMITS); the plan must use the same. */
  limits?: ReferenceLimits;
}

/**
 * Ask the registry each distinct question once, a bounded number at a time; failures become values, never "up to
 * date".
 *
 * @example
 * const resolutions = await resolveFiles(files, client, { signal: scanDeadline.signal });
 */
export async function resolveFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  options: ResolveFilesOptions = {},
): Promise<Resolutions> {
  const requests = resolveRequests(files, options.limits);
  const out: Resolutions = new Map();
  let done = 0;
  await forEachBounded(requests, options.concurrency ?? RESOLVE_CONCURRENCY, async (request) => {
    const ask = { ...request.options, ...(options.signal ? { signal: options.signal } : {}) };
    try {
      out.set(request.key, await resolver.resolve(request.reference, ask));
    } catch (error) {
      const what = `${imageName(request.reference)}:${request.reference.tag}`;
      out.set(request.key, error instanceof RegistryError ? error : (timeoutOf(what, error) ?? asError(error)));
    }
    options.onProgress?.(++done, requests.length);
  });
  return out;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The repository config cannot be applied to these files (its globs cost more than their budget). */
export class EngineConfigError extends Error {
  override readonly name = "EngineConfigError";
  readonly code = "CONFIG_INVALID";
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
  /** The deadline of the scan's registry work: when it aborts, what is left fails with TIMEOUT. */
  signal?: AbortSignal;
  /** Caps on references per file and per repository (default REFERENCE_LIMITS). */
  limits?: ReferenceLimits;
  /** Ignore decisions already made for these files (the app makes them before it accepts the config). */
  isIgnored?: PlanOptions["isIgnored"];
  /** Digests declined, decided by the caller (the app: from the hashes in closed pull requests). */
  isDeclined?: PlanOptions["isDeclined"];
  /** Digests seen per tag (the app's store): minimumAge then proposes an older digest of a tag that moves too often. */
  history?: TagHistory;
  /**
   * Hold refreshes outside the config's `schedule` (the app, which proposes them; the CLI reports what is due whatever
   * the hour). `openRefs` are the references an open pull request already rewrites: they are not held.
   */
  schedule?: { openRefs: readonly string[] };
}

export interface EngineRun {
  plan: Plan;
  /** The registry answers the plan was made from (the app fingerprints them for cheap drift checks). */
  resolutions: Resolutions;
  /** A schedule held a refresh back: time decides again, so the result must not be cached as final. */
  held: boolean;
}

/**
 * The engine: scanned files + config + resolver → the plan (pin, refresh, or skip with a reason, or an error), with
 * ignorePaths, ignoreImages, inline ignores (already marked by scanFile), pinUnpinned, declined digests, minimumAge
 * (with older digests of a moving tag), the platforms the repository builds for, and (for the app) the schedule.
 * Every update carries what a reviewer needs (when each image was built, platforms, labels).
 *
 * @example
 * const { plan } = await runEngine({ files: [scanFile("Dockerfile", bytes)], config: DEFAULT_CONFIG, resolver: client });
 * plan.changes[0]?.to // "alpine:3.20@sha256:…"
 */
export async function runEngine(input: EngineInput): Promise<EngineRun> {
  const { files, config, resolver } = input;
  const base = input.base ?? "";
  const now = (input.now ?? Date.now)();
  let isIgnored = input.isIgnored;
  if (!isIgnored) {
    // ignorePaths name repository paths: the decisions are made on them, and asked by the scanned paths.
    const decided = await ignoreDecisions(config, base === "" ? files : files.map((f) => ({ ...f, path: base + f.path })));
    if (!decided.ok) throw new EngineConfigError(decided.error);
    const ignored = decided.isIgnored;
    isIgnored = base === "" ? ignored : (path, found) => ignored(base + path, found);
  }
  const options: PlanOptions = { pinUnpinned: config.pinUnpinned, isIgnored };
  if (input.declined) options.declined = input.declined;
  if (input.isDeclined) options.isDeclined = input.isDeclined;
  if (input.limits) options.limits = input.limits;
  const resolveOptions: ResolveFilesOptions = {};
  if (input.signal) resolveOptions.signal = input.signal;
  if (input.onProgress) resolveOptions.onProgress = input.onProgress;
  if (input.limits) resolveOptions.limits = input.limits;
  const answers = await resolveFiles(files, resolver, resolveOptions);
  let resolutions = answers;
  if (config.minimumAgeMs > 0) {
    const aged = await applyMinimumAge(files, answers, {
      minimumAgeMs: config.minimumAgeMs,
      now,
      resolver,
      ...(input.history ? { history: input.history } : {}),
    });
    resolutions = aged.resolutions;
    options.isTooNew = aged.isTooNew;
  }
  let result = plan(files, resolutions, options);
  const infos = await describeUpdates(result.changes, resolver);
  const outOfWindow =
    input.schedule !== undefined && config.schedule !== null && !inWindow(config.schedule, new Date(now), config.timezone);
  const openRefs = input.schedule?.openRefs ?? [];
  const platformsHold = unchangedForPlatforms(config.platforms, infos);
  const hold = (change: Change) => {
    if (outOfWindow && change.oldDigest !== null && !openRefs.includes(refKey(change.path, change.from))) {
      const windows = (config.schedule?.text ?? []).join("; ");
      return { reason: "schedule" as const, detail: `outside the schedule (${windows}, ${config.timezone})` };
    }
    return platformsHold(change);
  };
  if (result.changes.some((c) => hold(c) !== null)) result = plan(files, resolutions, { ...options, hold });
  result = { ...result, changes: withReview(result.changes, infos) };
  // The fingerprint is of what the registries answered, not of the older digests minimumAge chose instead.
  return { plan: result, resolutions: answers, held: result.skipped.some((s) => s.reason === "schedule") };
}
