// One repository's whole run: read it, check its config, scan, resolve, plan, and bring its PR in line.

import { mapBounded } from "../bounded.js";
import { Deadline } from "../deadline.js";
import type { Scanner } from "../dockerfile/scan.js";
import { RESOLVE_CONCURRENCY, resolveFiles, runEngine, scanFile } from "../engine.js";
import { ignoreDecisions } from "../github/config.js";
import { reportConfigError, resolveConfigError } from "../github/config-issue.js";
import { readRepository, type Octokit } from "../github/files.js";
import type { BotAccount } from "../github/ownership.js";
import { postedError, postedList } from "../github/posted.js";
import { fingerprint, isUnchanged, type RepoState, type RepoStateCache } from "./repo-state.js";
import { branchFor, declinedBy, syncPullRequest, type SyncResult } from "../github/pull-request.js";
import { readMarker } from "../github/marker.js";
import { errorItem } from "../github/body.js";
import { codeBlock, inlineText } from "../github/markdown.js";
import { failedFiles, formatPlatforms, type Plan, type ScannedFile } from "../plan.js";
import type { Resolver } from "../registry/types.js";
import { parseReference } from "../reference.js";
import { loadConfig, type ConfigFileReader } from "./config-layers.js";
import type { TagHistory } from "../state/tag-history.js";

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
  /** The budget of one scan's registry work (default SCAN_TIMEOUT_MS). */
  scanTimeoutMs?: number;
  /** Reads a config base (the organization's `.github` repository's file), cached for the run by the caller. */
  readConfigFile?: ConfigFileReader;
  /** Digests seen per tag, for minimumAge. */
  history?: TagHistory;
}

/**
 * All the registry work of one repository scan (its references, minimumAge and the PR table's platforms) shares one
 * deadline, which starts with the first registry question; past it, what is left fails with TIMEOUT.
 */
export const SCAN_TIMEOUT_MS = 5 * 60_000;
const SCAN_BUDGET = "the registry work of one repository scan";

export type ScanOutcome =
  | { status: "skipped"; reason: "archived" | "disabled" | "empty" | "not-enabled" }
  | { status: "cached" }
  | { status: "config-error"; error: string; issue: number }
  | { status: "done"; files: number; plan: Plan; sync: SyncResult };

/**
 * The platforms each proposed index covers, for the PR table. Only changes need it, so the drift check of a current
 * repository stays at one HEAD per tag; a failure here only leaves the column empty.
 */
async function addPlatforms(p: Plan, resolver: Resolver, signal: AbortSignal): Promise<Plan> {
  const changes = await mapBounded(p.changes, RESOLVE_CONCURRENCY, async (change) => {
    const ref = parseReference(`${change.image}:${change.tag}`);
    if (!ref.ok || change.platforms) return change;
    const resolution = await resolver.resolve(ref.value, { withPlatforms: true, signal }).catch(() => null);
    const platforms = resolution?.digest === change.newDigest ? formatPlatforms(resolution) : undefined;
    return platforms ? { ...change, platforms } : change;
  });
  return { ...p, changes };
}

/** The drift check's shortcut: the repository has not moved and the registries answer as before. */
async function unchangedSinceLastScan(
  request: ScanRequest,
  state: RepoState | null | undefined,
  services: Services,
  signal: () => AbortSignal,
): Promise<boolean> {
  const { states } = services;
  if (!request.drift || !states || request.pushedAt === undefined || !request.defaultBranch) return false;
  if (!state || !isUnchanged(state, request.pushedAt, request.defaultBranch)) return false;
  const resolutions = await resolveFiles(state.files, services.resolver, { signal: signal() });
  if (fingerprint(state.files, resolutions) !== state.fingerprint) return false;
  if (state.pushedAt !== request.pushedAt) {
    // Our own push moved pushed_at: remember the new value so the next check matches exactly.
    await states.set(request.installationId, request.owner, request.repo, { ...state, pushedAt: request.pushedAt });
  }
  return true;
}

export async function scanRepository(octokit: Octokit, request: ScanRequest, services: Services): Promise<ScanOutcome> {
  let deadline: Deadline | undefined;
  // Started by the first registry question, so that waiting for GitHub does not spend the registries' budget.
  const signal = () => (deadline ??= new Deadline(services.scanTimeoutMs ?? SCAN_TIMEOUT_MS, SCAN_BUDGET)).signal;
  try {
    return await scanWithin(octokit, request, services, signal);
  } finally {
    deadline?.dispose();
  }
}

async function scanWithin(
  octokit: Octokit,
  request: ScanRequest,
  services: Services,
  signal: () => AbortSignal,
): Promise<ScanOutcome> {
  const { owner, repo, installationId } = request;
  const ref = { owner, repo };
  const previous = await services.states?.get(installationId, owner, repo);
  if (await unchangedSinceLastScan(request, previous, services, signal)) return { status: "cached" };

  const read = await readRepository(octokit, owner, repo, request.defaultBranch);
  if (read.status !== "ok") {
    await services.states?.forget(installationId, owner, repo);
    return { status: "skipped", reason: read.status };
  }
  const { snapshot } = read;

  const configError = async (error: string): Promise<ScanOutcome> => {
    await services.states?.forget(installationId, owner, repo);
    const issue = await reportConfigError(octokit, ref, services.botLogin, error);
    return { status: "config-error", error, issue };
  };
  const config = await loadConfig(owner, repo, snapshot.configText, services.readConfigFile, snapshot.configTooLarge);
  if (!config.ok) return configError(config.error);
  const { enabled } = config.config;
  const files: ScannedFile[] = enabled
    ? snapshot.files.map((f) => scanFile(f.path, f.content, services.scanner))
    : [];
  // The globs are matched before the config counts as valid: patterns too costly for these files are its error too.
  const ignores = await ignoreDecisions(config.config, files);
  if (!ignores.ok) return configError(ignores.error);
  // Only a repository that has (or just lost) a config can have a config-error issue to close.
  if (snapshot.configText !== null || request.configTouched) {
    await resolveConfigError(octokit, ref, services.botLogin);
  }
  if (!enabled) return { status: "skipped", reason: "not-enabled" };

  const now = services.now?.() ?? Date.now();
  const open = snapshot.pulls.find((p) => p.state === "open" && p.headRefName === branchFor(snapshot.branch));
  const openMarker = open ? readMarker(open.body) : null;
  const result = await runEngine({
    files,
    config: config.config,
    resolver: services.resolver,
    isDeclined: declinedBy(snapshot),
    isIgnored: ignores.isIgnored,
    signal: signal(),
    now: () => now,
    ...(services.history ? { history: services.history } : {}),
    schedule: { openRefs: openMarker?.refs ?? [] },
  });
  const held = result.held;
  result.plan = await addPlatforms(result.plan, services.resolver, signal());

  const sync = await syncPullRequest(octokit, ref, snapshot, result.plan, {
    config: config.config,
    bot: services.bot,
    recreate: request.recreate ?? false,
    body: { config: { effective: config.effective, sources: config.sources ?? [] } },
  });
  const wrote = sync.action === "opened" || sync.action === "updated" || sync.action === "closed";
  await services.states?.set(installationId, owner, repo, {
    v: 1,
    // As read with the files: a scan from a webhook (which knows no pushed_at) also makes the next drift check cheap.
    pushedAt: snapshot.pushedAt ?? request.pushedAt ?? null,
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
    return `digest-pin did not scan: the configuration is invalid (see #${outcome.issue}).\n\n${codeBlock(postedError(outcome.error))}`;
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
  lines.push(...postedList(p.errors, errorItem));
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
