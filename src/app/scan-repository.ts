// One repository's whole run: read it, check its config, scan, resolve, plan, and bring its PR in line.

import type { Scanner } from "../dockerfile/scan.js";
import { resolveFiles, scanFile, type Resolutions } from "../engine.js";
import { ignoreMatcher, type RepoConfig } from "../github/config.js";
import { reportConfigError, resolveConfigError } from "../github/config-issue.js";
import { readRepository, type Octokit } from "../github/files.js";
import type { BotAccount } from "../github/ownership.js";
import { fingerprint, isUnchanged, type RepoState, type RepoStateCache } from "./repo-state.js";
import { branchFor, declinedBy, syncPullRequest, type SyncResult } from "../github/pull-request.js";
import { readMarker, refKey, type Marker } from "../github/marker.js";
import { errorItem } from "../github/body.js";
import { codeBlock, inlineText } from "../github/markdown.js";
import { failedFiles, formatPlatforms, plan, type Change, type Plan, type PlanOptions, type ScannedFile } from "../plan.js";
import type { Resolver } from "../registry/types.js";
import { parseReference } from "../reference.js";
import { inWindow } from "../update-window.js";
import { loadConfig, type ConfigFileReader } from "./config-layers.js";
import { applyMinimumAge } from "./minimum-age.js";
import { describeUpdates, unchangedForPlatforms, withReview } from "./review.js";
import type { TagHistory } from "./tag-history.js";

export interface ScanRequest {
  installationId: number;
  owner: string;
  repo: string;
  /** Rebuild the bot branch even over other people's commits. */
  recreate?: boolean;
  /** What the caller already knows of the repository (a listing or a webhook payload). */
  defaultBranch?: string;
  /** `pushed_at` from a repository listing: with it, a drift check may answer from the cached state. */
  pushedAt?: string | null;
  /** A drift check: an unchanged repository whose registry answers are unchanged costs no GitHub call. */
  drift?: boolean;
  /** The push touched the config file: a config-error issue may need closing even if the file is gone. */
  configTouched?: boolean;
}

export interface Services {
  resolver: Resolver;
  /** The app's own login, `<slug>[bot]`. */
  botLogin: string;
  /** Its bot account (login and GitHub's id for it), asked only when a bot branch exists. */
  bot: () => Promise<BotAccount>;
  /** Remembered scans, for cheap drift checks. */
  states?: RepoStateCache;
  now?: () => number;
  /** The Dockerfile scanner (default scanDockerfile); tests inject one that fails. */
  scanner?: Scanner;
  /** Reads a config base (the organization's `.github` repository's file), cached for the run by the caller. */
  readConfigFile?: ConfigFileReader;
  /** Digests seen per tag, for minimumAge. */
  history?: TagHistory;
}

export type ScanOutcome =
  | { status: "skipped"; reason: "archived" | "disabled" | "empty" | "not-enabled" }
  | { status: "cached" }
  | { status: "config-error"; error: string; issue: number }
  | { status: "done"; files: number; plan: Plan; sync: SyncResult };

/**
 * The platforms each proposed index covers, for the PR table. Only changes need it, so the drift check of a current
 * repository stays at one HEAD per tag; a failure here only leaves the column empty.
 */
async function addPlatforms(p: Plan, resolver: Resolver): Promise<Plan> {
  const changes = await Promise.all(
    p.changes.map(async (change) => {
      const ref = parseReference(`${change.image}:${change.tag}`);
      if (!ref.ok || change.platforms) return change;
      const resolution = await resolver.resolve(ref.value, { withPlatforms: true }).catch(() => null);
      const platforms = resolution?.digest === change.newDigest ? formatPlatforms(resolution) : undefined;
      return platforms ? { ...change, platforms } : change;
    }),
  );
  return { ...p, changes };
}

/** The drift check's shortcut: the repository has not moved and the registries answer as before. */
async function unchangedSinceLastScan(
  request: ScanRequest,
  state: RepoState | null | undefined,
  services: Services,
): Promise<boolean> {
  const { states } = services;
  if (!request.drift || !states || request.pushedAt === undefined || !request.defaultBranch) return false;
  if (!state || !isUnchanged(state, request.pushedAt, request.defaultBranch)) return false;
  const resolutions = await resolveFiles(state.files, services.resolver);
  if (fingerprint(state.files, resolutions) !== state.fingerprint) return false;
  if (state.pushedAt !== request.pushedAt) {
    // Our own push moved pushed_at: remember the new value so the next check matches exactly.
    await states.set(request.installationId, request.owner, request.repo, { ...state, pushedAt: request.pushedAt });
  }
  return true;
}

export async function scanRepository(octokit: Octokit, request: ScanRequest, services: Services): Promise<ScanOutcome> {
  const { owner, repo, installationId } = request;
  const ref = { owner, repo };
  const previous = await services.states?.get(installationId, owner, repo);
  if (await unchangedSinceLastScan(request, previous, services)) return { status: "cached" };

  const read = await readRepository(octokit, owner, repo, request.defaultBranch);
  if (read.status !== "ok") {
    await services.states?.forget(installationId, owner, repo);
    return { status: "skipped", reason: read.status };
  }
  const { snapshot } = read;

  const config = await loadConfig(owner, repo, snapshot.configText, services.readConfigFile);
  if (!config.ok) {
    await services.states?.forget(installationId, owner, repo);
    const issue = await reportConfigError(octokit, ref, services.botLogin, config.error);
    return { status: "config-error", error: config.error, issue };
  }
  // Only a repository that has (or just lost) a config can have a config-error issue to close.
  if (snapshot.configText !== null || request.configTouched) {
    await resolveConfigError(octokit, ref, services.botLogin);
  }
  if (!config.config.enabled) return { status: "skipped", reason: "not-enabled" };

  const now = services.now?.() ?? Date.now();
  const files: ScannedFile[] = snapshot.files.map((f) => scanFile(f.path, f.content, services.scanner));
  const open = snapshot.pulls.find((p) => p.state === "open" && p.headRefName === branchFor(snapshot.branch));
  const { result, held } = await planRepository(files, config.config, {
    services,
    now,
    isDeclined: declinedBy(snapshot),
    openMarker: open ? readMarker(open.body) : null,
  });

  const sync = await syncPullRequest(octokit, ref, snapshot, result.plan, {
    config: config.config,
    bot: services.bot,
    recreate: request.recreate ?? false,
    body: { config: { effective: config.effective, sources: config.sources ?? [] } },
  });
  const wrote = sync.action === "opened" || sync.action === "updated" || sync.action === "closed";
  await services.states?.set(installationId, owner, repo, {
    v: 1,
    pushedAt: request.pushedAt ?? null,
    defaultBranch: snapshot.branch,
    files,
    fingerprint: fingerprint(files, result.resolutions),
    // Time decides again next time (minimumAge, a schedule that held something back); a file that failed to scan
    // is read again, never answered from this state.
    volatile: config.config.minimumAgeMs > 0 || held || sync.action === "blocked" || failedFiles(result.plan).length > 0,
    ownWritesUntil: wrote ? now : previous?.ownWritesUntil,
  });
  return { status: "done", files: files.length, plan: result.plan, sync };
}

interface PlanContext {
  services: Services;
  now: number;
  isDeclined: NonNullable<PlanOptions["isDeclined"]>;
  /** The open pull request's marker: the references it already rewrites keep their refreshes outside the schedule. */
  openMarker: Marker | null;
}

/**
 * Resolve and plan: minimumAge (with older digests of a moving tag), then what the schedule and the platforms hold
 * back, then what a reviewer needs about each update. `held` says a schedule held a refresh back (time decides again).
 */
async function planRepository(
  files: ScannedFile[],
  config: RepoConfig,
  { services, now, isDeclined, openMarker }: PlanContext,
): Promise<{ result: { plan: Plan; resolutions: Resolutions }; held: boolean }> {
  const options: PlanOptions = { pinUnpinned: config.pinUnpinned, isIgnored: ignoreMatcher(config), isDeclined };
  const answers = await resolveFiles(files, services.resolver);
  let resolutions = answers;
  if (config.minimumAgeMs > 0) {
    const aged = await applyMinimumAge(files, answers, {
      minimumAgeMs: config.minimumAgeMs,
      now,
      resolver: services.resolver,
      ...(services.history ? { history: services.history } : {}),
    });
    resolutions = aged.resolutions;
    options.isTooNew = aged.isTooNew;
  }
  let result = plan(files, resolutions, options);
  const infos = await describeUpdates(result.changes, services.resolver);
  const outOfWindow = config.schedule !== null && !inWindow(config.schedule, new Date(now), config.timezone);
  const platformsHold = unchangedForPlatforms(config.platforms, infos);
  const hold = (change: Change) => {
    if (outOfWindow && change.oldDigest !== null && !openMarker?.refs.includes(refKey(change.path, change.from))) {
      return { reason: "schedule" as const, detail: `outside the schedule (${(config.schedule?.text ?? []).join("; ")}, ${config.timezone})` };
    }
    return platformsHold(change);
  };
  if (result.changes.some((c) => hold(c) !== null)) result = plan(files, resolutions, { ...options, hold });
  result = await addPlatforms({ ...result, changes: withReview(result.changes, infos) }, services.resolver);
  // The fingerprint is of what the registries answered, not of the older digests minimumAge chose instead.
  return { result: { plan: result, resolutions: answers }, held: result.skipped.some((s) => s.reason === "schedule") };
}

/** The reply to a comment command: what was found and done. */
export function summarize(outcome: ScanOutcome): string {
  if (outcome.status === "skipped") {
    const why = {
      archived: "the repository is archived",
      disabled: "the repository is disabled",
      empty: "the repository is empty",
      "not-enabled": "`enabled: false` in `.github/digest-pin.yml`",
    }[outcome.reason];
    return `digest-pin did not scan: ${why}.`;
  }
  if (outcome.status === "cached") return "digest-pin found nothing new since the last scan.";
  if (outcome.status === "config-error") {
    return `digest-pin did not scan: the configuration is invalid (see #${outcome.issue}).\n\n${codeBlock(outcome.error)}`;
  }
  const { plan: p, sync } = outcome;
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  const references = p.changes.length + p.current.length + p.skipped.length + p.errors.length;
  const byReason = new Map<string, number>();
  for (const s of p.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const skipped = [...byReason].map(([reason, n]) => `${n} ${reason}`).join(", ");
  const lines = [
    `digest-pin scanned ${outcome.files} Dockerfile${outcome.files === 1 ? "" : "s"}: ` +
      `${references} references, ${pinned} to pin, ${p.changes.length - pinned} to refresh, ` +
      `${p.current.length} current, ${p.skipped.length} skipped${skipped ? ` (${skipped})` : ""}, ` +
      `${p.errors.length} error${p.errors.length === 1 ? "" : "s"}.`,
  ];
  for (const e of p.errors) lines.push(errorItem(e));
  const link = sync.pull ? ` #${sync.pull.number} (${sync.pull.url})` : "";
  const action: Record<SyncResult["action"], string> = {
    opened: `Opened${link}.`,
    updated: `Updated${link}.`,
    unchanged: `The pull request${link} is already current.`,
    closed: `Nothing left to change: closed${link}.`,
    // The detail may name the default branch, which the repository chose.
    blocked: `Left the branch alone: ${inlineText(sync.detail ?? "someone else pushed to it")}${link ? ` (${link.trim()})` : ""}.`,
    none: failedFiles(p).length > 0 ? "Nothing to change in the files that could be scanned." : "Nothing to change.",
  };
  lines.push("", action[sync.action]);
  return lines.join("\n");
}
